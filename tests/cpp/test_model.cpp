// GoogleTest suite of bindings/cpp/temporal.hpp against the committed fixture
// (tests/data/small.safetensors, small.case.bin; see tests/golden/main.go).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "temporal.hpp"

#ifndef TEMPORAL_TEST_DATA
#error "TEMPORAL_TEST_DATA must name the tests/data directory"
#endif

namespace {

const std::string kData = TEMPORAL_TEST_DATA;
const std::string kModel = kData + "/small.safetensors";

static_assert(!std::is_copy_constructible_v<temporal::Model>);
static_assert(!std::is_copy_assignable_v<temporal::Model>);
static_assert(std::is_nothrow_move_constructible_v<temporal::Model>);
static_assert(std::is_nothrow_move_assignable_v<temporal::Model>);

struct Golden {
    int32_t B = 0, T = 0, F = 0, C = 0;
    std::vector<int32_t> lengths;
    std::vector<float> features, logits_masked, fw_masked, logits_reference, fw_reference,
        probs_masked, logits_full;

    temporal::Features x() const { return {features, B, T, F}; }
};

template <class T>
std::vector<T> take(const std::vector<char> &b, size_t &off, size_t n) {
    std::vector<T> v(n);
    if (off + n * sizeof(T) > b.size()) throw std::runtime_error("short case file");
    std::memcpy(v.data(), b.data() + off, n * sizeof(T));
    off += n * sizeof(T);
    return v;
}

const Golden &golden() {
    static const Golden g = [] {
        std::ifstream f(kData + "/small.case.bin", std::ios::binary);
        std::vector<char> b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (b.size() < 24 || std::memcmp(b.data(), "TGLD", 4) != 0)
            throw std::runtime_error("bad case file");
        Golden g;
        size_t off = 8;
        auto dims = take<int32_t>(b, off, 4);
        g.B = dims[0], g.T = dims[1], g.F = dims[2], g.C = dims[3];
        size_t B = g.B, T = g.T, F = g.F, C = g.C;
        g.lengths = take<int32_t>(b, off, B);
        g.features = take<float>(b, off, B * T * F);
        g.logits_masked = take<float>(b, off, B * C);
        g.fw_masked = take<float>(b, off, B * T);
        g.logits_reference = take<float>(b, off, B * C);
        g.fw_reference = take<float>(b, off, B * T);
        g.probs_masked = take<float>(b, off, B * C);
        g.logits_full = take<float>(b, off, B * C);
        return g;
    }();
    return g;
}

double maxdiff(const std::vector<float> &a, const std::vector<float> &b) {
    EXPECT_EQ(a.size(), b.size());
    double m = 0;
    for (size_t i = 0; i < a.size() && i < b.size(); i++)
        m = std::max(m, std::fabs(double(a[i]) - double(b[i])));
    return m;
}

temporal::Config fixture_config() {
    temporal::Config c;
    c.feature_dim = 16;
    c.hidden_dim = 8;
    c.num_layers = 2;
    c.num_heads = 2;
    c.num_classes = 3;
    c.dropout = 0.4;
    c.bidirectional = true;
    c.classifier_widths = {12, 8};
    return c;
}

template <class F>
temporal_status status_of(F &&f) {
    try {
        f();
    } catch (const temporal::Error &e) {
        EXPECT_NE(std::string(e.what()), "");
        return e.status();
    }
    return TEMPORAL_OK;
}

TEST(Library, Version) {
    EXPECT_FALSE(temporal::version().empty());
    EXPECT_EQ(temporal_abi_version(), TEMPORAL_ABI_VERSION);
    EXPECT_EQ(temporal::cuda_available(), temporal_cuda_device_count() > 0);
    EXPECT_GE(temporal::num_threads(), 1);
    EXPECT_EQ(status_of([] { temporal::set_num_threads(-2); }), TEMPORAL_ERR_INVALID_ARGUMENT);
}

TEST(Model, GoldenLogits) {
    const Golden &g = golden();
    auto m = temporal::Model::load(kModel);
    auto p = m.predict(g.x(), g.lengths, {temporal::Padding::masked, true});
    EXPECT_EQ(p.batch, g.B);
    EXPECT_EQ(p.num_classes, g.C);
    EXPECT_LE(maxdiff(p.scores, g.logits_masked), 1e-6);
    EXPECT_LE(maxdiff(p.frame_weights, g.fw_masked), 1e-6);
    p = m.predict(g.x(), g.lengths, {temporal::Padding::reference, true});
    EXPECT_LE(maxdiff(p.scores, g.logits_reference), 1e-6);
    EXPECT_LE(maxdiff(p.frame_weights, g.fw_reference), 1e-6);
    p = m.predict_proba(g.x(), g.lengths);
    EXPECT_LE(maxdiff(p.scores, g.probs_masked), 1e-6);
    EXPECT_TRUE(p.frame_weights.empty());
    p = m.predict(g.x());
    EXPECT_LE(maxdiff(p.scores, g.logits_full), 1e-6);
    int best = p.argmax(0);
    EXPECT_GE(best, 0);
    EXPECT_LT(best, g.C);
}

// set_precision / precision: float32 by default and bitwise unchanged after a bf16 round trip;
// bf16 close to float32 but not equal; an out-of-range value throws INVALID_ARGUMENT.
TEST(Model, Precision) {
    const Golden &g = golden();
    auto m = temporal::Model::load(kModel);
    EXPECT_EQ(m.precision(), temporal::Precision::float32);
    auto ref = m.predict(g.x(), g.lengths);
    EXPECT_LE(maxdiff(ref.scores, g.logits_masked), 1e-6);
    m.set_precision(temporal::Precision::bf16_recurrent);
    EXPECT_EQ(m.precision(), temporal::Precision::bf16_recurrent);
    auto bf = m.predict(g.x(), g.lengths);
    double scale = 0;
    for (float v : ref.scores) scale = std::max(scale, std::fabs(double(v)));
    EXPECT_LE(maxdiff(bf.scores, ref.scores), 2e-2 * scale + 1e-4);
    EXPECT_NE(bf.scores, ref.scores);
    EXPECT_EQ(status_of([&] { m.set_precision(static_cast<temporal::Precision>(7)); }),
              TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(m.precision(), temporal::Precision::bf16_recurrent);
    m.set_precision(temporal::Precision::float32);
    auto again = m.predict(g.x(), g.lengths);
    EXPECT_EQ(std::memcmp(again.scores.data(), ref.scores.data(), ref.scores.size() * sizeof(float)), 0);
    temporal::Model empty;
    EXPECT_EQ(status_of([&] { empty.set_precision(temporal::Precision::float32); }),
              TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_EQ(status_of([&] { (void)empty.precision(); }), TEMPORAL_ERR_BAD_HANDLE);
}

TEST(Model, Config) {
    auto m = temporal::Model::load(kModel);
    auto c = m.config();
    EXPECT_EQ(c.feature_dim, 16);
    EXPECT_EQ(c.hidden_dim, 8);
    EXPECT_EQ(c.num_layers, 2);
    EXPECT_EQ(c.num_heads, 2);
    EXPECT_EQ(c.num_classes, 3);
    EXPECT_TRUE(c.bidirectional);
    EXPECT_EQ(c.classifier_widths, (std::vector<int>{12, 8}));
    EXPECT_GT(c.num_params, 0);
    EXPECT_EQ(c.class_names, (std::vector<std::string>{"walk", "run", "jump"}));
}

TEST(Model, CreateMatchesFixture) {
    const Golden &g = golden();
    auto cfg = fixture_config();
    cfg.class_names = {"x", "y", "z"};
    auto m = temporal::Model::create(cfg, 1234);
    EXPECT_LE(maxdiff(m.predict(g.x(), g.lengths).scores, g.logits_masked), 1e-6);
    EXPECT_EQ(m.class_names(), cfg.class_names);
    m.set_class_names({});
    EXPECT_TRUE(m.class_names().empty());
    EXPECT_EQ(status_of([&] { m.set_class_names({"a"}); }), TEMPORAL_ERR_INVALID_ARGUMENT);
}

TEST(Model, SaveLoadRoundTrip) {
    const Golden &g = golden();
    auto m = temporal::Model::create(fixture_config(), 99);
    auto want = m.predict(g.x(), g.lengths).scores;
    std::string path = ::testing::TempDir() + "/cpp-roundtrip.safetensors";
    m.save(path);
    auto back = temporal::Model::load(path);
    EXPECT_EQ(back.predict(g.x(), g.lengths).scores, want);

    std::ifstream f(kModel, std::ios::binary);
    std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(f)),
                                     std::istreambuf_iterator<char>());
    auto mem = temporal::Model::load_memory(bytes);
    EXPECT_LE(maxdiff(mem.predict(g.x(), g.lengths).scores, g.logits_masked), 1e-6);
    bytes.resize(bytes.size() / 2);
    EXPECT_EQ(status_of([&] { temporal::Model::load_memory(bytes); }), TEMPORAL_ERR_FORMAT);
}

TEST(Model, MoveSemantics) {
    auto a = temporal::Model::load(kModel);
    temporal_model h = a.handle();
    ASSERT_NE(h, 0u);
    temporal::Model b(std::move(a));
    EXPECT_FALSE(a); // NOLINT(bugprone-use-after-move): moved-from is empty by contract
    EXPECT_EQ(b.handle(), h);
    temporal::Model c;
    c = std::move(b);
    EXPECT_EQ(c.handle(), h);
    c = temporal::Model::load(kModel); // frees h
    temporal_model_config info = temporal_model_config_default();
    EXPECT_EQ(temporal_model_info(h, &info), TEMPORAL_ERR_BAD_HANDLE);
    temporal_model raw = c.release();
    EXPECT_FALSE(c);
    temporal::Model d(raw);
    d.reset();
    EXPECT_EQ(temporal_model_free(raw), TEMPORAL_ERR_BAD_HANDLE);
}

TEST(Model, Errors) {
    const Golden &g = golden();
    EXPECT_EQ(status_of([] { temporal::Model::load("/nonexistent/x.safetensors"); }),
              TEMPORAL_ERR_IO);
    EXPECT_EQ(status_of([] { temporal::Model::load(kData); }), TEMPORAL_ERR_IO);
    EXPECT_EQ(status_of([] { temporal::Model::load(kData + "/small.case.bin"); }),
              TEMPORAL_ERR_FORMAT);
    if (!temporal::cuda_available()) {
        EXPECT_EQ(status_of([] { temporal::Model::load(kModel, {"cuda", 0}); }),
                  TEMPORAL_ERR_DEVICE);
    }
    const std::string missing = "cuda:" + std::to_string(temporal_cuda_device_count() + 1);
    EXPECT_EQ(status_of([&] { temporal::Model::load(kModel, {missing, 0}); }),
              TEMPORAL_ERR_DEVICE);
    EXPECT_EQ(status_of([] { temporal::Model::load(kModel, {"metal", 0}); }),
              TEMPORAL_ERR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of([] { temporal::Model::load(kModel, {"cpu", 3}); }),
              TEMPORAL_ERR_INVALID_ARGUMENT);
    auto bad = fixture_config();
    bad.num_heads = 5;
    EXPECT_EQ(status_of([&] { temporal::Model::create(bad, 1); }), TEMPORAL_ERR_INVALID_ARGUMENT);
    bad = fixture_config();
    bad.classifier_widths.clear();
    EXPECT_EQ(status_of([&] { temporal::Model::create(bad, 1); }), TEMPORAL_ERR_INVALID_ARGUMENT);

    auto m = temporal::Model::load(kModel);
    EXPECT_EQ(status_of([&] { m.predict({g.features.data(), g.B, g.T, g.F + 1}); }),
              TEMPORAL_ERR_SHAPE);
    EXPECT_EQ(status_of([&] { temporal::Features(g.features, g.B, g.T + 1, g.F); }),
              TEMPORAL_ERR_SHAPE);
    std::vector<int32_t> lens = g.lengths;
    lens[0] = g.T + 1;
    EXPECT_EQ(status_of([&] { m.predict(g.x(), lens); }), TEMPORAL_ERR_INVALID_ARGUMENT);
    lens.pop_back();
    EXPECT_EQ(status_of([&] { m.predict(g.x(), lens); }), TEMPORAL_ERR_SHAPE);
    std::vector<float> nan = g.features;
    nan[5] = std::nanf("");
    EXPECT_EQ(status_of([&] { m.predict({nan, g.B, g.T, g.F}); }), TEMPORAL_ERR_NUMERIC);
    EXPECT_EQ(status_of([&] {
                  m.predict({reinterpret_cast<const float *>(uintptr_t{0xdead0000}), g.B, g.T, g.F});
              }),
              TEMPORAL_ERR_INTERNAL);
    EXPECT_EQ(status_of([&] { m.save(kData); }), TEMPORAL_ERR_IO);

    temporal::Model empty;
    EXPECT_EQ(status_of([&] { empty.predict(g.x()); }), TEMPORAL_ERR_BAD_HANDLE);
    EXPECT_EQ(status_of([&] { empty.config(); }), TEMPORAL_ERR_BAD_HANDLE);
    try {
        empty.save("x");
        FAIL() << "no exception";
    } catch (const temporal::Error &e) {
        EXPECT_EQ(e.status(), TEMPORAL_ERR_BAD_HANDLE);
        EXPECT_STREQ(e.status_name(), "bad handle");
        EXPECT_NE(std::string(e.what()).find("handle"), std::string::npos);
    }
}

TEST(Model, ConcurrentPredictsAreBitwiseSerial) {
    const Golden &g = golden();
    auto m = temporal::Model::load(kModel);
    const auto serial = m.predict(g.x(), g.lengths, {temporal::Padding::masked, true});
    std::vector<int> mismatches(8, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; t++)
        threads.emplace_back([&, t] {
            for (int i = 0; i < 30; i++) {
                auto p = m.predict(g.x(), g.lengths, {temporal::Padding::masked, true});
                if (p.scores != serial.scores || p.frame_weights != serial.frame_weights)
                    mismatches[t]++;
            }
        });
    for (auto &th : threads) th.join();
    for (int t = 0; t < 8; t++) EXPECT_EQ(mismatches[t], 0) << "thread " << t;
}

} // namespace
