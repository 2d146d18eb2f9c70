// classify.cpp — classify clips with a libtemporal checkpoint through the C++ wrapper.
//
//   g++ -std=c++17 -Wall -Wextra -Iinclude -Ibindings/cpp examples/cpp/classify.cpp
//     -Lbuild/lib -ltemporal -Wl,-rpath,$PWD/build/lib -o build/bin/classify
//   build/bin/classify build/demo/model.safetensors build/demo/clips/clip-0.npy [more.npy ...]
//
// A clip is a float32 little-endian .npy in C order, [frames, feature_dim] (one clip) or
// [batch, frames, feature_dim]; or a raw float32 file given as FILE.f32:FRAMES (feature_dim from
// the model). Prints the class probabilities and the three frames weighed most by the
// attention pooling.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "temporal.hpp"

namespace {

struct Clip {
    std::vector<float> data;
    std::int64_t batch = 1, frames = 0, features = 0;
};

[[noreturn]] void die(const std::string &msg) {
    std::cerr << "classify: " << msg << "\n";
    std::exit(1);
}

// read_npy reads the float32 .npy subset numpy writes for np.save(float32 array).
Clip read_npy(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) die("cannot open " + path);
    char magic[8];
    if (!f.read(magic, 8) || std::string(magic, 6) != "\x93NUMPY") die(path + ": not a .npy file");
    std::size_t hlen = 0;
    if (magic[6] == 1) {
        unsigned char b[2];
        f.read(reinterpret_cast<char *>(b), 2);
        hlen = b[0] | (b[1] << 8);
    } else {
        unsigned char b[4];
        f.read(reinterpret_cast<char *>(b), 4);
        hlen = b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::size_t>(b[3]) << 24);
    }
    std::string header(hlen, '\0');
    f.read(&header[0], static_cast<std::streamsize>(hlen));
    if (header.find("'descr': '<f4'") == std::string::npos) die(path + ": need float32 ('<f4') data");
    if (header.find("'fortran_order': False") == std::string::npos) die(path + ": need C order");
    auto open = header.find('('), close = header.find(')');
    if (open == std::string::npos || close == std::string::npos) die(path + ": no shape in header");
    std::vector<std::int64_t> shape;
    std::stringstream ss(header.substr(open + 1, close - open - 1));
    std::string item;
    while (std::getline(ss, item, ','))
        if (item.find_first_not_of(' ') != std::string::npos) shape.push_back(std::stoll(item));
    Clip c;
    if (shape.size() == 2) {
        c.frames = shape[0];
        c.features = shape[1];
    } else if (shape.size() == 3) {
        c.batch = shape[0];
        c.frames = shape[1];
        c.features = shape[2];
    } else {
        die(path + ": need shape [frames, features] or [batch, frames, features]");
    }
    c.data.resize(static_cast<std::size_t>(c.batch * c.frames * c.features));
    if (!f.read(reinterpret_cast<char *>(c.data.data()), static_cast<std::streamsize>(c.data.size() * sizeof(float))))
        die(path + ": file shorter than its shape");
    return c;
}

// read_raw reads FILE.f32:FRAMES, a headerless float32 [frames, features] file.
Clip read_raw(const std::string &arg, std::int64_t features) {
    auto colon = arg.rfind(':');
    Clip c;
    c.frames = std::stoll(arg.substr(colon + 1));
    c.features = features;
    std::ifstream f(arg.substr(0, colon), std::ios::binary);
    if (!f) die("cannot open " + arg.substr(0, colon));
    c.data.resize(static_cast<std::size_t>(c.frames * c.features));
    if (!f.read(reinterpret_cast<char *>(c.data.data()), static_cast<std::streamsize>(c.data.size() * sizeof(float))))
        die(arg + ": file shorter than frames x feature_dim floats");
    return c;
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        std::cerr << "usage: classify MODEL.safetensors CLIP.npy|CLIP.f32:FRAMES ...\n";
        return 2;
    }
    try {
        temporal::Model model = temporal::Model::load(argv[1]);
        temporal::Config cfg = model.config();
        std::vector<std::string> names = model.class_names();
        for (int c = static_cast<int>(names.size()); c < cfg.num_classes; c++) names.push_back(std::to_string(c));
        std::cout << "model " << argv[1] << " (libtemporal " << temporal::version() << "): " << cfg.feature_dim
                  << " features, " << cfg.num_classes << " classes\n";
        for (int i = 2; i < argc; i++) {
            std::string arg = argv[i];
            Clip clip = arg.find(".f32:") != std::string::npos ? read_raw(arg, cfg.feature_dim) : read_npy(arg);
            temporal::PredictOptions opt;
            opt.frame_weights = true;
            temporal::Prediction p = model.predict_proba(
                temporal::Features(clip.data, clip.batch, clip.frames, clip.features), {}, opt);
            for (std::int64_t b = 0; b < p.batch; b++) {
                int best = p.argmax(b);
                std::printf("%s: %s p=%.3f  [", arg.c_str(), names[best].c_str(), p.at(b, best));
                for (int c = 0; c < cfg.num_classes; c++) std::printf("%s%s %.3f", c ? "  " : "", names[c].c_str(), p.at(b, c));
                std::vector<int> order(static_cast<std::size_t>(p.frames));
                std::iota(order.begin(), order.end(), 0);
                const float *w = p.frame_weights.data() + b * p.frames;
                std::stable_sort(order.begin(), order.end(), [w](int x, int y) { return w[x] > w[y]; });
                std::printf("]  top frames");
                for (std::size_t k = 0; k < std::min<std::size_t>(3, order.size()); k++)
                    std::printf("%s #%d %.2f", k ? "," : "", order[k], w[order[k]]);
                std::printf("\n");
            }
        }
    } catch (const temporal::Error &e) {
        std::cerr << "classify: " << e.status_name() << ": " << e.what() << "\n";
        return 1;
    }
    return 0;
}
