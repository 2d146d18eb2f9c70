// temporal.hpp — header-only C++17 wrapper over the libtemporal C API (temporal.h).
//
//   #include <temporal.hpp>
//   temporal::Model m = temporal::Model::load("model.safetensors");
//   temporal::Prediction p = m.predict({features.data(), batch, frames, feature_dim});
//
// - temporal::Model owns one handle (RAII): movable, not copyable; the destructor frees it.
// - Every failing C call throws temporal::Error carrying the status and the library's message.
// - Inputs are taken as non-owning views (no copy); results come back in std::vector.
// - Thread safety is the C API's: predict may run on one Model from many threads at once; do not
//   move, assign or destroy a Model while another thread uses it.
// The host caveats of temporal.h apply (never dlclose, no fork after load, SA_ONSTACK, ...).
#ifndef TEMPORAL_HPP
#define TEMPORAL_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "temporal.h"

namespace temporal {

// The calling thread's last error message from the C library.
inline std::string last_error() {
    std::string s(temporal_last_error(nullptr, 0), '\0');
    if (!s.empty()) temporal_last_error(&s[0], s.size() + 1);
    return s;
}

// Error is what every failing call throws: the C status and the library's message.
class Error : public std::runtime_error {
public:
    Error(temporal_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    temporal_status status() const noexcept { return status_; }
    // The status's short name ("shape mismatch", ...).
    const char *status_name() const noexcept { return temporal_status_string(status_); }

private:
    temporal_status status_;
};

namespace detail {
inline void check(temporal_status st) {
    if (st != TEMPORAL_OK) throw Error(st, last_error());
}
} // namespace detail

// Span is a non-owning view of n contiguous T (std::span is C++20).
template <class T>
class Span {
public:
    constexpr Span() noexcept = default;
    constexpr Span(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
    template <class U, class A>
    Span(const std::vector<U, A> &v) noexcept : data_(v.data()), size_(v.size()) {}
    template <class U, class A>
    Span(std::vector<U, A> &v) noexcept : data_(v.data()), size_(v.size()) {}
    constexpr T *data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }

private:
    T *data_ = nullptr;
    std::size_t size_ = 0;
};

// Features is a view of a [batch, frames, feature_dim] float32 array in C order.
struct Features {
    const float *data = nullptr;
    std::int64_t batch = 0, frames = 0, feature_dim = 0;

    Features() = default;
    Features(const float *d, std::int64_t b, std::int64_t t, std::int64_t f)
        : data(d), batch(b), frames(t), feature_dim(f) {}
    // From a vector holding exactly batch*frames*feature_dim values (checked).
    Features(const std::vector<float> &v, std::int64_t b, std::int64_t t, std::int64_t f)
        : data(v.data()), batch(b), frames(t), feature_dim(f) {
        const std::size_t n = v.size();
        const bool ok = b >= 1 && t >= 1 && f >= 1 && n % static_cast<std::size_t>(f) == 0 &&
                        (n / static_cast<std::size_t>(f)) % static_cast<std::size_t>(t) == 0 &&
                        n / static_cast<std::size_t>(f) / static_cast<std::size_t>(t) ==
                            static_cast<std::size_t>(b);
        if (!ok)
            throw Error(TEMPORAL_ERR_SHAPE, "temporal::Features: a vector of " + std::to_string(n) +
                                                " values is not " + std::to_string(b) + "x" +
                                                std::to_string(t) + "x" + std::to_string(f));
    }
};

enum class Padding { masked = TEMPORAL_PADDING_MASKED, reference = TEMPORAL_PADDING_REFERENCE };

// The arithmetic of a model's CPU predicts (temporal_model_set_precision): float32 (default), or
// the opt-in bf16 recurrent weights (faster at batch 1; logits move by up to ~2e-3 of their
// largest magnitude).
enum class Precision {
    float32 = TEMPORAL_PRECISION_FLOAT32,
    bf16_recurrent = TEMPORAL_PRECISION_BF16_RECURRENT
};

// Config mirrors temporal_model_config with C++ containers.
struct Config {
    int feature_dim = 1280;
    int hidden_dim = 768;
    int num_layers = 4;
    int num_heads = 12;
    int num_classes = 4;
    double dropout = 0.4;
    bool bidirectional = true;
    std::vector<int> classifier_widths{768, 512, 256};
    std::int64_t num_params = 0;              // output only (Model::config)
    std::vector<std::string> class_names;     // Model::create sets them when not empty

    temporal_model_config to_c() const {
        temporal_model_config c = temporal_model_config_default();
        if (classifier_widths.empty() || classifier_widths.size() > TEMPORAL_MAX_CLASSIFIER_WIDTHS)
            throw Error(TEMPORAL_ERR_INVALID_ARGUMENT,
                        "temporal::Config: classifier_widths needs 1.." +
                            std::to_string(TEMPORAL_MAX_CLASSIFIER_WIDTHS) + " entries");
        c.feature_dim = feature_dim;
        c.hidden_dim = hidden_dim;
        c.num_layers = num_layers;
        c.num_heads = num_heads;
        c.num_classes = num_classes;
        c.dropout = dropout;
        c.bidirectional = bidirectional ? 1 : 0;
        c.num_classifier_widths = static_cast<std::int32_t>(classifier_widths.size());
        for (std::size_t i = 0; i < TEMPORAL_MAX_CLASSIFIER_WIDTHS; i++)
            c.classifier_widths[i] = i < classifier_widths.size() ? classifier_widths[i] : 0;
        return c;
    }
};

// Prediction holds one predict call's results.
struct Prediction {
    std::int64_t batch = 0, frames = 0, num_classes = 0;
    std::vector<float> scores;        // [batch, num_classes]: logits, or probabilities
    std::vector<float> frame_weights; // [batch, frames] when asked for, else empty

    // scores[b, c].
    float at(std::int64_t b, std::int64_t c) const {
        return scores.at(static_cast<std::size_t>(b * num_classes + c));
    }
    // The index of the largest score of clip b.
    int argmax(std::int64_t b) const {
        int best = 0;
        for (std::int64_t c = 1; c < num_classes; c++)
            if (at(b, c) > at(b, best)) best = static_cast<int>(c);
        return best;
    }
};

struct PredictOptions {
    Padding padding = Padding::masked;
    bool frame_weights = false; // also return the attention-pooling weights per frame
    // Test-time augmentation (TEMPORAL_TTA_ALL): the mean of the softmax over DESIGN §3's modes
    // that apply to each clip. Only with predict_proba / ensemble_predict_proba (predict, which
    // returns logits, throws INVALID_ARGUMENT).
    bool tta = false;
};

struct LoadOptions {
    std::string device = "cpu"; // "cpu", "cuda", "cuda:N"
    int num_heads = 0;          // 0: from the file, else 12
};

inline std::string version() { return temporal_version(); }
inline void set_num_threads(int n) { detail::check(temporal_set_num_threads(n)); }
inline int num_threads() { return temporal_get_num_threads(); }
inline bool cuda_available() { return temporal_cuda_available() != 0; }
// Whether this build reads and writes HDF5 datasets (false: a nohdf5 build).
inline bool hdf5_available() { return temporal_hdf5_available() != 0; }

// Model owns one temporal_model handle.
class Model {
public:
    Model() noexcept = default;
    // Takes ownership of a handle from the C API.
    explicit Model(temporal_model handle) noexcept : h_(handle) {}
    ~Model() { reset(); }
    Model(const Model &) = delete;
    Model &operator=(const Model &) = delete;
    Model(Model &&o) noexcept : h_(std::exchange(o.h_, 0)) {}
    Model &operator=(Model &&o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, 0);
        }
        return *this;
    }

    static Model load(const std::string &path, const LoadOptions &opt = {}) {
        temporal_load_options o = temporal_load_options_default();
        o.device = opt.device.c_str();
        o.num_heads = opt.num_heads;
        temporal_model h = 0;
        detail::check(temporal_model_load_ex(path.c_str(), &o, &h));
        return Model(h);
    }

    // From a checkpoint file's bytes held in memory (not kept after the call).
    static Model load_memory(Span<const unsigned char> bytes, const LoadOptions &opt = {}) {
        temporal_load_options o = temporal_load_options_default();
        o.device = opt.device.c_str();
        o.num_heads = opt.num_heads;
        temporal_model h = 0;
        detail::check(temporal_model_load_memory_ex(bytes.data(), bytes.size(), &o, &h));
        return Model(h);
    }

    // A freshly initialised model (deterministic in seed), with cfg.class_names when given.
    static Model create(const Config &cfg, std::uint64_t seed) {
        temporal_model_config c = cfg.to_c();
        temporal_model h = 0;
        detail::check(temporal_model_create(&c, seed, &h));
        Model m(h);
        if (!cfg.class_names.empty()) m.set_class_names(cfg.class_names);
        return m;
    }

    void save(const std::string &path) const { detail::check(temporal_model_save(h_, path.c_str())); }

    Config config() const {
        temporal_model_config c = temporal_model_config_default();
        detail::check(temporal_model_info(h_, &c));
        Config r;
        r.feature_dim = c.feature_dim;
        r.hidden_dim = c.hidden_dim;
        r.num_layers = c.num_layers;
        r.num_heads = c.num_heads;
        r.num_classes = c.num_classes;
        r.dropout = c.dropout;
        r.bidirectional = c.bidirectional != 0;
        r.classifier_widths.assign(c.classifier_widths,
                                   c.classifier_widths + c.num_classifier_widths);
        r.num_params = c.num_params;
        if (c.num_class_names > 0) r.class_names = class_names();
        return r;
    }

    // The class names (empty when the model has none).
    std::vector<std::string> class_names() const {
        temporal_model_config c = temporal_model_config_default();
        detail::check(temporal_model_info(h_, &c));
        std::vector<std::string> names;
        for (std::int32_t i = 0; i < c.num_class_names; i++) {
            std::size_t len = 0;
            detail::check(temporal_model_class_name(h_, i, nullptr, 0, &len));
            std::string s(len, '\0');
            if (len > 0) detail::check(temporal_model_class_name(h_, i, &s[0], len + 1, nullptr));
            names.push_back(std::move(s));
        }
        return names;
    }

    void set_class_names(const std::vector<std::string> &names) {
        std::vector<const char *> p;
        p.reserve(names.size());
        for (const auto &n : names) p.push_back(n.c_str());
        detail::check(temporal_model_set_class_names(h_, p.empty() ? nullptr : p.data(),
                                                     static_cast<std::int32_t>(p.size())));
    }

    // Selects the arithmetic of later predicts on this model (temporal_model_set_precision): not
    // saved with the model; safe while other threads predict. Throws temporal::Error
    // (TEMPORAL_ERR_INVALID_ARGUMENT for a value outside Precision, TEMPORAL_ERR_UNSUPPORTED for
    // bf16 on a CUDA model).
    void set_precision(Precision p) {
        detail::check(temporal_model_set_precision(h_, static_cast<std::int32_t>(p)));
    }

    Precision precision() const {
        std::int32_t p = TEMPORAL_PRECISION_FLOAT32;
        detail::check(temporal_model_get_precision(h_, &p));
        return static_cast<Precision>(p);
    }

    // Logits for a batch. lengths: empty (every clip has all frames) or one per clip.
    Prediction predict(const Features &x, Span<const std::int32_t> lengths = {},
                       const PredictOptions &opt = {}) const {
        return run(x, lengths, opt, TEMPORAL_OUTPUT_LOGITS);
    }

    // Class probabilities (softmax of the logits) for a batch.
    Prediction predict_proba(const Features &x, Span<const std::int32_t> lengths = {},
                             const PredictOptions &opt = {}) const {
        return run(x, lengths, opt, TEMPORAL_OUTPUT_PROBABILITIES);
    }

    temporal_model handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != 0; }
    // Gives up ownership without freeing.
    temporal_model release() noexcept { return std::exchange(h_, 0); }
    // Frees the handle now (a no-op on an empty Model).
    void reset() noexcept {
        if (h_ != 0) temporal_model_free(std::exchange(h_, 0));
    }

private:
    Prediction run(const Features &x, Span<const std::int32_t> lengths, const PredictOptions &opt,
                   temporal_output output) const {
        if (!lengths.empty() && static_cast<std::int64_t>(lengths.size()) != x.batch)
            throw Error(TEMPORAL_ERR_SHAPE, "temporal::Model::predict: " +
                                                std::to_string(lengths.size()) +
                                                " lengths for a batch of " +
                                                std::to_string(x.batch));
        temporal_model_config c = temporal_model_config_default();
        detail::check(temporal_model_info(h_, &c));
        Prediction p;
        p.batch = x.batch;
        p.frames = x.frames;
        p.num_classes = c.num_classes;
        if (x.batch > 0 && x.frames > 0) {
            p.scores.resize(static_cast<std::size_t>(x.batch) * static_cast<std::size_t>(c.num_classes));
            if (opt.frame_weights)
                p.frame_weights.resize(static_cast<std::size_t>(x.batch) *
                                       static_cast<std::size_t>(x.frames));
        }
        temporal_predict_options o = temporal_predict_options_default();
        o.padding = static_cast<std::int32_t>(opt.padding);
        o.output = output;
        o.tta = opt.tta ? TEMPORAL_TTA_ALL : TEMPORAL_TTA_NONE;
        detail::check(temporal_predict(
            h_, x.data, x.batch, x.frames, x.feature_dim, lengths.empty() ? nullptr : lengths.data(),
            &o, p.scores.empty() ? nullptr : p.scores.data(), p.scores.size(),
            opt.frame_weights && !p.frame_weights.empty() ? p.frame_weights.data() : nullptr,
            p.frame_weights.size()));
        return p;
    }

    temporal_model h_ = 0;
};


// Class probabilities of an ensemble: the mean over models of each model's softmax (with
// opt.tta, of each model's TTA mean), in one call (temporal_ensemble_predict). All models must
// take the same feature_dim and have the same number of classes.
inline Prediction ensemble_predict_proba(const std::vector<const Model *> &models, const Features &x,
                                         Span<const std::int32_t> lengths = {},
                                         const PredictOptions &opt = {}) {
    if (models.empty())
        throw Error(TEMPORAL_ERR_INVALID_ARGUMENT, "temporal::ensemble_predict_proba: no model");
    if (!lengths.empty() && static_cast<std::int64_t>(lengths.size()) != x.batch)
        throw Error(TEMPORAL_ERR_SHAPE, "temporal::ensemble_predict_proba: " +
                                            std::to_string(lengths.size()) +
                                            " lengths for a batch of " + std::to_string(x.batch));
    std::vector<temporal_model> hs;
    hs.reserve(models.size());
    for (const Model *m : models) hs.push_back(m != nullptr ? m->handle() : 0);
    temporal_model_config c = temporal_model_config_default();
    detail::check(temporal_model_info(hs[0], &c));
    Prediction p;
    p.batch = x.batch;
    p.frames = x.frames;
    p.num_classes = c.num_classes;
    if (x.batch > 0 && x.frames > 0) {
        p.scores.resize(static_cast<std::size_t>(x.batch) * static_cast<std::size_t>(c.num_classes));
        if (opt.frame_weights)
            p.frame_weights.resize(static_cast<std::size_t>(x.batch) * static_cast<std::size_t>(x.frames));
    }
    temporal_predict_options o = temporal_predict_options_default();
    o.padding = static_cast<std::int32_t>(opt.padding);
    o.output = TEMPORAL_OUTPUT_PROBABILITIES;
    o.tta = opt.tta ? TEMPORAL_TTA_ALL : TEMPORAL_TTA_NONE;
    detail::check(temporal_ensemble_predict(
        hs.data(), hs.size(), x.data, x.batch, x.frames, x.feature_dim,
        lengths.empty() ? nullptr : lengths.data(), &o, p.scores.empty() ? nullptr : p.scores.data(),
        p.scores.size(), opt.frame_weights && !p.frame_weights.empty() ? p.frame_weights.data() : nullptr,
        p.frame_weights.size()));
    return p;
}

inline Prediction ensemble_predict_proba(const std::vector<Model> &models, const Features &x,
                                         Span<const std::int32_t> lengths = {},
                                         const PredictOptions &opt = {}) {
    std::vector<const Model *> ps;
    ps.reserve(models.size());
    for (const Model &m : models) ps.push_back(&m);
    return ensemble_predict_proba(ps, x, lengths, opt);
}

// ---------------------------------------------------------------------------------------------
// Training (temporal.h: temporal_train_config and the functions after it)

enum class Loss { focal = TEMPORAL_LOSS_FOCAL, cross_entropy = TEMPORAL_LOSS_CROSS_ENTROPY };

// TrainConfig mirrors temporal_train_config; the defaults are the reference recipe.
struct TrainConfig {
    int epochs = 150;
    int batch_size = 48;
    int patience = 25; // 0: no early stopping
    double lr = 1e-3;
    double weight_decay = 5e-4;
    std::uint64_t seed = 42;
    Padding padding = Padding::masked;
    Loss loss = Loss::focal;
    double gamma = 2.0;
    double label_smoothing = 0.1;
    bool dropout = true;
    bool augment = true;
    std::int64_t checkpoint_every_steps = 0;
    bool resume = false;
    bool class_weights = true;
    double clip_norm = 1.0;

    temporal_train_config to_c() const {
        temporal_train_config c = temporal_train_config_default();
        c.epochs = epochs;
        c.batch_size = batch_size;
        c.patience = patience;
        c.lr = lr;
        c.weight_decay = weight_decay;
        c.seed = seed;
        c.padding = static_cast<std::int32_t>(padding);
        c.loss = static_cast<std::int32_t>(loss);
        c.gamma = gamma;
        c.label_smoothing = label_smoothing;
        c.dropout = dropout ? 1 : 0;
        c.augment = augment ? 1 : 0;
        c.checkpoint_every_steps = checkpoint_every_steps;
        c.resume = resume ? 1 : 0;
        c.class_weights = class_weights ? 1 : 0;
        c.clip_norm = clip_norm;
        return c;
    }
};

// What temporal::train returns (and TrainCancelled carries).
struct TrainReport {
    int epochs_run = 0;
    int best_epoch = 0;
    bool stopped_early = false;
    std::int64_t final_step = 0;
    double best_val_accuracy = 0;
    double final_train_loss = -1; // -1: no epoch finished
    std::string best_model_path;  // empty when no epoch finished
};

// Thrown by temporal::train when the progress callback asked to stop.
class TrainCancelled : public Error {
public:
    TrainCancelled(const std::string &message, TrainReport report)
        : Error(TEMPORAL_ERR_CANCELLED, message), report_(std::move(report)) {}
    const TrainReport &report() const noexcept { return report_; }

private:
    TrainReport report_;
};

// A progress callback: return true to cancel. An exception thrown inside it cancels the run
// and is rethrown from temporal::train after the library returned.
using ProgressFn = std::function<bool(const temporal_train_progress &)>;

namespace detail {
struct ProgressCtx {
    const ProgressFn *fn;
    std::exception_ptr error;
};
extern "C" inline int temporal_hpp_progress(const temporal_train_progress *p, void *user) {
    auto *ctx = static_cast<ProgressCtx *>(user);
    if (ctx->error) return 1;
    try {
        return (*ctx->fn)(*p) ? 1 : 0;
    } catch (...) {
        ctx->error = std::current_exception();
        return 1;
    }
}
} // namespace detail

// Trains on HDF5 datasets (temporal_train). val_h5 empty: no validation. model_cfg: nullopt for
// the reference model sized to the data; in a Config, feature_dim = 0 and num_classes = 0 mean
// "from the training set".
inline TrainReport train(const std::string &train_h5, const std::string &val_h5,
                         const std::string &out_dir, const std::optional<Config> &model_cfg = {},
                         const TrainConfig &cfg = {}, const ProgressFn &progress = {}) {
    temporal_model_config mc{};
    if (model_cfg) mc = model_cfg->to_c();
    temporal_train_config tc = cfg.to_c();
    temporal_train_report r = temporal_train_report_default();
    detail::ProgressCtx ctx{&progress, nullptr};
    temporal_status st = temporal_train(train_h5.c_str(), val_h5.empty() ? nullptr : val_h5.c_str(),
                                        out_dir.c_str(), model_cfg ? &mc : nullptr, &tc,
                                        progress ? &detail::temporal_hpp_progress : nullptr, &ctx, &r);
    std::string msg = st != TEMPORAL_OK ? last_error() : std::string();
    if (ctx.error) std::rethrow_exception(ctx.error);
    TrainReport rep;
    rep.epochs_run = r.epochs_run;
    rep.best_epoch = r.best_epoch;
    rep.stopped_early = r.stopped_early != 0;
    rep.final_step = r.final_step;
    rep.best_val_accuracy = r.best_val_accuracy;
    rep.final_train_loss = r.final_train_loss;
    rep.best_model_path = r.best_model_path;
    if (st == TEMPORAL_ERR_CANCELLED) throw TrainCancelled(msg, rep);
    if (st != TEMPORAL_OK) throw Error(st, msg);
    return rep;
}

// Writes a dataset in the reference HDF5 layout (temporal_dataset_write). x: [n, max_frames,
// feature_dim]; labels: n values; lengths: empty (all full) or n values; class_names: empty
// ("0", "1", ...) or num_classes names.
inline void write_dataset(const std::string &path, const Features &x, Span<const std::int64_t> labels,
                          Span<const std::int32_t> lengths, int num_classes,
                          const std::vector<std::string> &class_names = {}) {
    if (static_cast<std::int64_t>(labels.size()) != x.batch ||
        (!lengths.empty() && static_cast<std::int64_t>(lengths.size()) != x.batch))
        throw Error(TEMPORAL_ERR_SHAPE, "temporal::write_dataset: labels/lengths do not have " +
                                            std::to_string(x.batch) + " values");
    if (!class_names.empty() && static_cast<int>(class_names.size()) != num_classes)
        throw Error(TEMPORAL_ERR_INVALID_ARGUMENT, "temporal::write_dataset: " +
                                                       std::to_string(class_names.size()) +
                                                       " class names for " +
                                                       std::to_string(num_classes) + " classes");
    std::vector<const char *> names;
    for (const auto &n : class_names) names.push_back(n.c_str());
    detail::check(temporal_dataset_write(path.c_str(), x.data, x.batch, x.frames, x.feature_dim,
                                         lengths.empty() ? nullptr : lengths.data(), labels.data(),
                                         names.empty() ? nullptr : names.data(), num_classes));
}

// Trainer owns one temporal_trainer handle (RAII; movable, not copyable): optimizer steps of
// the reference recipe on a model, for custom loops. The trainer keeps the model's weights
// alive. A step takes the model's lock exclusively (predicts on it wait).
class Trainer {
public:
    Trainer() noexcept = default;
    explicit Trainer(const Model &m, const TrainConfig &cfg = {}) {
        temporal_train_config c = cfg.to_c();
        detail::check(temporal_trainer_create(m.handle(), &c, &h_));
    }
    ~Trainer() { reset(); }
    Trainer(const Trainer &) = delete;
    Trainer &operator=(const Trainer &) = delete;
    Trainer(Trainer &&o) noexcept : h_(std::exchange(o.h_, 0)) {}
    Trainer &operator=(Trainer &&o) noexcept {
        if (this != &o) {
            reset();
            h_ = std::exchange(o.h_, 0);
        }
        return *this;
    }

    // One optimizer step; returns the batch loss (before the update).
    float step(const Features &x, Span<const std::int64_t> labels, Span<const std::int32_t> lengths = {}) {
        if (static_cast<std::int64_t>(labels.size()) != x.batch ||
            (!lengths.empty() && static_cast<std::int64_t>(lengths.size()) != x.batch))
            throw Error(TEMPORAL_ERR_SHAPE, "temporal::Trainer::step: labels/lengths do not have " +
                                                std::to_string(x.batch) + " values");
        float loss = 0;
        detail::check(temporal_trainer_step(h_, x.data, x.batch, x.frames, x.feature_dim,
                                            lengths.empty() ? nullptr : lengths.data(),
                                            labels.data(), &loss));
        return loss;
    }

    // The learning rate of the next step.
    double lr() const {
        double v = 0;
        detail::check(temporal_trainer_lr(h_, &v));
        return v;
    }

    // Class weights of the loss for later steps (num_classes values, finite, >= 0); an empty
    // span removes them. Not part of save_state.
    void set_class_weights(Span<const float> weights) {
        if (weights.size() > static_cast<std::size_t>(INT32_MAX))
            throw Error(TEMPORAL_ERR_INVALID_ARGUMENT, "too many class weights");
        detail::check(temporal_trainer_set_class_weights(h_, weights.size() ? weights.data() : nullptr,
                                                         static_cast<std::int32_t>(weights.size())));
    }

    // The optimizer state (AdamW moments and step, schedule position, dropout stream), written
    // atomically; with the model saved at the same point, a new trainer on the reloaded model
    // that calls load_state continues bitwise as this one would.
    void save_state(const std::string &path) const {
        detail::check(temporal_trainer_save_state(h_, path.c_str()));
    }
    // Restores save_state's file (this model's parameters only; on error nothing changes).
    void load_state(const std::string &path) {
        detail::check(temporal_trainer_load_state(h_, path.c_str()));
    }

    temporal_trainer handle() const noexcept { return h_; }
    explicit operator bool() const noexcept { return h_ != 0; }
    void reset() noexcept {
        if (h_ != 0) temporal_trainer_free(std::exchange(h_, 0));
    }

private:
    temporal_trainer h_ = 0;
};

} // namespace temporal

#endif // TEMPORAL_HPP
