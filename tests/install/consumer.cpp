// Classifies one synthetic clip with an installed libtemporal (C++ wrapper).
//   consumer MODEL.safetensors
#include <cmath>
#include <cstdio>
#include <vector>

#include <temporal.hpp>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s MODEL.safetensors\n", argv[0]);
        return 2;
    }
    try {
        auto model = temporal::Model::load(argv[1]);
        auto cfg = model.config();
        const int frames = 10;
        std::vector<float> clip(static_cast<size_t>(frames) * cfg.feature_dim);
        for (size_t i = 0; i < clip.size(); i++) clip[i] = static_cast<float>(std::sin(0.1 * i));
        auto p = model.predict_proba({clip, 1, frames, cfg.feature_dim});
        int c = p.argmax(0);
        std::printf("libtemporal %s: class=%d (%s) p=%.4f\n", temporal::version().c_str(), c,
                    cfg.class_names.empty() ? "?" : cfg.class_names[c].c_str(), p.at(0, c));
    } catch (const temporal::Error &e) {
        std::fprintf(stderr, "error (%s): %s\n", e.status_name(), e.what());
        return 1;
    }
    return 0;
}
