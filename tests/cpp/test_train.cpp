// GoogleTest suite of temporal.hpp's training, dataset, ensemble and TTA additions (tiny models).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <unistd.h>
#include <vector>

#include "temporal.hpp"

namespace {

static_assert(!std::is_copy_constructible_v<temporal::Trainer>);
static_assert(std::is_nothrow_move_constructible_v<temporal::Trainer>);

constexpr int F = 4, C = 2;

temporal::Config tiny() {
    temporal::Config c;
    c.feature_dim = F;
    c.hidden_dim = 4;
    c.num_layers = 1;
    c.num_heads = 2;
    c.num_classes = C;
    c.dropout = 0;
    c.classifier_widths = {8};
    return c;
}

// Clips whose class is the direction of a ramp in feature 0.
struct Data {
    int n, T;
    std::vector<float> x;
    std::vector<int64_t> y;
    std::vector<int32_t> len;
    temporal::Features features() const { return {x, n, T, F}; }
};

Data ramp_data(int n, int T, int min_len, unsigned seed) {
    Data d{n, T, std::vector<float>(static_cast<size_t>(n) * T * F, 0.0f), {}, {}};
    uint64_t s = 0x9e3779b97f4a7c15ull ^ seed;
    auto noise = [&s] {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        return static_cast<float>((s >> 11) * (1.0 / 9007199254740992.0)) * 0.2f - 0.1f;
    };
    for (int i = 0; i < n; i++) {
        int k = min_len + (i * 5) % (T - min_len + 1);
        d.y.push_back(i % 2);
        d.len.push_back(k);
        for (int t = 0; t < k; t++) {
            float ramp = static_cast<float>(t) / static_cast<float>(k > 1 ? k - 1 : 1);
            for (int f = 0; f < F; f++) d.x[(static_cast<size_t>(i) * T + t) * F + f] = noise();
            d.x[(static_cast<size_t>(i) * T + t) * F] += i % 2 == 0 ? ramp : 1 - ramp;
        }
    }
    return d;
}

std::string scratch_dir() {
    std::string tmpl = ::testing::TempDir() + "temporal-cpp-XXXXXX";
    if (mkdtemp(&tmpl[0]) == nullptr) throw std::runtime_error("mkdtemp failed");
    return tmpl;
}

std::vector<float> run_steps(uint64_t seed, std::vector<float> *probs) {
    Data d = ramp_data(8, 6, 2, 5);
    temporal::Model m = temporal::Model::create(tiny(), seed);
    temporal::TrainConfig cfg;
    cfg.seed = seed;
    cfg.lr = 1e-2;
    cfg.dropout = false;
    temporal::Trainer tr(m, cfg);
    EXPECT_DOUBLE_EQ(tr.lr(), 1e-2);
    std::vector<float> losses;
    for (int i = 0; i < 10; i++) losses.push_back(tr.step(d.features(), d.y, d.len));
    *probs = m.predict_proba(d.features(), d.len).scores;
    return losses;
}

TEST(Train, TrainerStepLearnsAndIsDeterministic) {
    std::vector<float> p1, p2;
    auto l1 = run_steps(7, &p1);
    auto l2 = run_steps(7, &p2);
    ASSERT_EQ(l1.size(), 10u);
    EXPECT_LT(l1.back(), 0.9f * l1.front());
    EXPECT_EQ(l1, l2);
    EXPECT_EQ(p1, p2);
}

TEST(Train, TrainerStateResumesBitwise) {
    Data d = ramp_data(8, 6, 2, 4);
    std::string dir = scratch_dir();
    temporal::TrainConfig cfg;
    cfg.seed = 11;
    cfg.lr = 1e-2;
    temporal::Model m = temporal::Model::create(tiny(), 3);
    temporal::Trainer tr(m, cfg);
    for (int i = 0; i < 3; i++) tr.step(d.features(), d.y, d.len);
    m.save(dir + "/model.safetensors");
    tr.save_state(dir + "/trainer.safetensors");
    std::vector<float> rest, resumed;
    for (int i = 0; i < 4; i++) rest.push_back(tr.step(d.features(), d.y, d.len));
    temporal::Model m2 = temporal::Model::load(dir + "/model.safetensors");
    temporal::Trainer tr2(m2, cfg);
    tr2.load_state(dir + "/trainer.safetensors");
    for (int i = 0; i < 4; i++) resumed.push_back(tr2.step(d.features(), d.y, d.len));
    EXPECT_EQ(rest, resumed);
    EXPECT_EQ(m.predict_proba(d.features(), d.len).scores, m2.predict_proba(d.features(), d.len).scores);
    try {
        tr2.load_state(dir + "/model.safetensors");
        FAIL() << "a model file loaded as a trainer state";
    } catch (const temporal::Error &e) {
        EXPECT_EQ(e.status(), TEMPORAL_ERR_FORMAT);
    }
}

TEST(Train, TrainerClassWeights) {
    Data d = ramp_data(8, 6, 2, 2);
    temporal::TrainConfig cfg;
    cfg.dropout = false;
    auto first_loss = [&](std::vector<float> w, bool reset) {
        temporal::Model m = temporal::Model::create(tiny(), 5);
        temporal::Trainer tr(m, cfg);
        if (!w.empty()) tr.set_class_weights(w);
        if (reset) tr.set_class_weights({});
        return tr.step(d.features(), d.y, d.len);
    };
    float plain = first_loss({}, false);
    EXPECT_NE(first_loss({0.25f, 3.0f}, false), plain);
    EXPECT_EQ(first_loss({0.25f, 3.0f}, true), plain);
    temporal::Model m = temporal::Model::create(tiny(), 5);
    temporal::Trainer tr(m, cfg);
    std::vector<float> wrong_count{1.0f, 1.0f, 1.0f};
    try {
        tr.set_class_weights(wrong_count);
        FAIL() << "three weights accepted for two classes";
    } catch (const temporal::Error &e) {
        EXPECT_EQ(e.status(), TEMPORAL_ERR_INVALID_ARGUMENT);
    }
}

TEST(Train, TrainerErrors) {
    Data d = ramp_data(8, 6, 2, 1);
    temporal::Model m = temporal::Model::create(tiny(), 1);
    temporal::TrainConfig bad;
    bad.lr = -1;
    try {
        temporal::Trainer t(m, bad);
        FAIL() << "negative lr accepted";
    } catch (const temporal::Error &e) {
        EXPECT_EQ(e.status(), TEMPORAL_ERR_INVALID_ARGUMENT);
        EXPECT_NE(std::string(e.what()).find("lr"), std::string::npos);
    }
    temporal::Trainer tr(m);
    auto y = d.y;
    y[1] = C;
    try {
        tr.step(d.features(), y, d.len);
        FAIL() << "label out of range accepted";
    } catch (const temporal::Error &e) {
        EXPECT_EQ(e.status(), TEMPORAL_ERR_INVALID_ARGUMENT);
    }
    EXPECT_THROW(tr.step(d.features(), temporal::Span<const int64_t>(d.y.data(), 3), d.len),
                 temporal::Error);
    EXPECT_GT(tr.step(d.features(), d.y, d.len), 0.0f);
    temporal::Trainer moved = std::move(tr);
    EXPECT_FALSE(static_cast<bool>(tr));
    EXPECT_GT(moved.step(d.features(), d.y, d.len), 0.0f);
}

TEST(Train, EnsembleIsMeanAndTtaMatchesModes) {
    Data d = ramp_data(4, 14, 3, 9);
    std::vector<temporal::Model> ms;
    ms.push_back(temporal::Model::create(tiny(), 42));
    ms.push_back(temporal::Model::create(tiny(), 43));
    auto pa = ms[0].predict_proba(d.features(), d.len);
    auto pb = ms[1].predict_proba(d.features(), d.len);
    auto pe = temporal::ensemble_predict_proba(ms, d.features(), d.len);
    ASSERT_EQ(pe.scores.size(), pa.scores.size());
    for (size_t i = 0; i < pe.scores.size(); i++)
        EXPECT_NEAR(pe.scores[i], 0.5f * (pa.scores[i] + pb.scores[i]), 1e-6f);

    // TTA of clip 0 (n = 3: original + reversed) by hand.
    temporal::PredictOptions tta;
    tta.tta = true;
    auto pt = ms[0].predict_proba(d.features(), d.len, tta);
    int n = d.len[0];
    std::vector<float> rev(static_cast<size_t>(n) * F);
    for (int t = 0; t < n; t++)
        for (int f = 0; f < F; f++) rev[static_cast<size_t>(t) * F + f] = d.x[static_cast<size_t>(n - 1 - t) * F + f];
    auto po = ms[0].predict_proba({d.x.data(), 1, n, F});
    auto pr = ms[0].predict_proba({rev.data(), 1, n, F});
    for (int c = 0; c < C; c++) EXPECT_NEAR(pt.at(0, c), 0.5f * (po.at(0, c) + pr.at(0, c)), 2e-6f);
    // predict (logits) with TTA is refused.
    try {
        ms[0].predict(d.features(), d.len, tta);
        FAIL() << "logits with TTA accepted";
    } catch (const temporal::Error &e) {
        EXPECT_EQ(e.status(), TEMPORAL_ERR_INVALID_ARGUMENT);
    }
    // Ensemble with TTA = mean of the members' TTA.
    auto pbt = ms[1].predict_proba(d.features(), d.len, tta);
    auto pet = temporal::ensemble_predict_proba(ms, d.features(), d.len, tta);
    for (size_t i = 0; i < pet.scores.size(); i++)
        EXPECT_NEAR(pet.scores[i], 0.5f * (pt.scores[i] + pbt.scores[i]), 1e-6f);
    EXPECT_THROW(temporal::ensemble_predict_proba(std::vector<const temporal::Model *>{}, d.features()),
                 temporal::Error);
}

TEST(Train, DatasetTrainCancel) {
    if (!temporal::hdf5_available()) GTEST_SKIP() << "nohdf5 build";
    std::string dir = scratch_dir();
    Data tr = ramp_data(24, 12, 9, 1), va = ramp_data(12, 12, 9, 2);
    temporal::write_dataset(dir + "/train.h5", tr.features(), tr.y, tr.len, C, {"up", "down"});
    temporal::write_dataset(dir + "/val.h5", va.features(), va.y, va.len, C, {"up", "down"});
    auto y = tr.y;
    y[0] = 7;
    EXPECT_THROW(temporal::write_dataset(dir + "/bad.h5", tr.features(), y, tr.len, C), temporal::Error);

    temporal::Config mc = tiny();
    mc.feature_dim = 0; // from the data
    temporal::TrainConfig cfg;
    cfg.epochs = 3;
    cfg.batch_size = 8;
    cfg.lr = 5e-3;
    int steps = 0, epochs = 0;
    auto rep = temporal::train(dir + "/train.h5", dir + "/val.h5", dir + "/run", mc, cfg,
                               [&](const temporal_train_progress &p) {
                                   (p.phase == TEMPORAL_PROGRESS_STEP ? steps : epochs)++;
                                   EXPECT_EQ(p.steps_per_epoch, 3);
                                   EXPECT_GT(p.loss, 0);
                                   return false;
                               });
    EXPECT_EQ(steps, 9);
    EXPECT_EQ(epochs, 3);
    EXPECT_EQ(rep.epochs_run, 3);
    EXPECT_EQ(rep.final_step, 9);
    temporal::Model best = temporal::Model::load(rep.best_model_path);
    EXPECT_EQ(best.class_names(), (std::vector<std::string>{"up", "down"}));

    // Cancel by returning true: TrainCancelled with the report; the checkpoint loads.
    try {
        temporal::train(dir + "/train.h5", dir + "/val.h5", dir + "/cancel", mc, cfg,
                        [](const temporal_train_progress &p) { return p.step == 4; });
        FAIL() << "not cancelled";
    } catch (const temporal::TrainCancelled &e) {
        EXPECT_EQ(e.status(), TEMPORAL_ERR_CANCELLED);
        EXPECT_EQ(e.report().epochs_run, 1);
        EXPECT_EQ(e.report().final_step, 4);
        temporal::Model m = temporal::Model::load(dir + "/cancel/last-3.safetensors");
        EXPECT_TRUE(static_cast<bool>(m));
    }
    // An exception in the callback cancels and is rethrown as itself.
    EXPECT_THROW(temporal::train(dir + "/train.h5", "", dir + "/throw", mc, cfg,
                                 [](const temporal_train_progress &) -> bool {
                                     throw std::logic_error("from the callback");
                                 }),
                 std::logic_error);
}

} // namespace
