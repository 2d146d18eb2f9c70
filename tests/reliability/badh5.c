/* HDF5 datasets with a bad layout, through the C API that reads them (temporal_train): missing
 * datasets and attributes, wrong element types, mismatched N, values out of range, sizes beyond
 * the limits, NaN features, files that are not HDF5. Each gives the documented status and a
 * message naming the problem. The files are written with libhdf5 itself (well-formed HDF5 with
 * a wrong layout: libhdf5's own parser on hostile bytes is outside the library's reach).
 *
 *   badh5 SCRATCH_DIR */
#include "rel.h"

#include <hdf5.h>
#include <math.h>

enum { N = 6, T = 5, F = 4 };

typedef struct layout {
    const char *skip;          /* dataset or attribute left out */
    hid_t features_type, labels_type, frames_type;
    int n_labels;              /* entries in labels (N) */
    int64_t label0, frames0;   /* value of labels[0], num_frames[0] */
    int64_t num_videos;        /* attribute (N) */
    const char *mapping;       /* category_mapping JSON */
    int mapping_int;           /* category_mapping stored as an integer */
    int features_rank2;
    hsize_t huge_n;            /* nonzero: every dataset declares this many clips, chunked */
    float feature0;            /* features[i][0][0] of every clip */
} layout;

static layout good(void) {
    layout l;
    memset(&l, 0, sizeof l);
    l.features_type = H5T_NATIVE_FLOAT;
    l.labels_type = H5T_NATIVE_INT64;
    l.frames_type = H5T_NATIVE_INT32;
    l.n_labels = N;
    l.label0 = 0;
    l.frames0 = T;
    l.num_videos = N;
    l.mapping = "{\"walk\": 0, \"run\": 1, \"jump\": 2}";
    l.feature0 = 0.5f;
    return l;
}

static void put_dataset(hid_t f, const char *name, hid_t type, int rank, const hsize_t *dims,
                        hsize_t huge, const void *data) {
    hid_t sp, ds, dcpl = H5P_DEFAULT;
    if (huge) {
        hsize_t chunk[3] = {64, 1, 1};
        int i;
        for (i = 1; i < rank; i++) chunk[i] = dims[i];
        dcpl = H5Pcreate(H5P_DATASET_CREATE);
        H5Pset_chunk(dcpl, rank, chunk);
    }
    sp = H5Screate_simple(rank, dims, NULL);
    ds = H5Dcreate2(f, name, type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (!huge) H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(ds);
    H5Sclose(sp);
    if (dcpl != H5P_DEFAULT) H5Pclose(dcpl);
}

static void put_int_attr(hid_t root, const char *name, int64_t v) {
    hid_t sp = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(root, name, H5T_NATIVE_INT64, sp, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a);
    H5Sclose(sp);
}

static void write_layout(const char *path, layout l) {
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), root;
    double feats[N * T * F];
    int64_t labels[N];
    int64_t frames[N];
    int i;
    hsize_t n = l.huge_n ? l.huge_n : N;
    hsize_t fd[3] = {n, T, F}, ld[1] = {l.huge_n ? l.huge_n : (hsize_t)l.n_labels}, nd[1] = {n};
    for (i = 0; i < N * T * F; i++) feats[i] = (i % 7) * 0.25;
    for (i = 0; i < N; i++) feats[i * T * F] = l.feature0; /* every clip: sampling draws some */
    for (i = 0; i < N; i++) {
        labels[i] = i % 3;
        frames[i] = 1 + i % T;
    }
    labels[0] = l.label0;
    frames[0] = l.frames0;
    /* H5Dwrite converts from the memory type given; our buffers are double / int64 */
    {
        hid_t sp, ds;
        if (strcmp(l.skip ? l.skip : "", "features") != 0) {
            hsize_t d2[2] = {n, T * F};
            int rank = l.features_rank2 ? 2 : 3;
            hid_t dcpl = H5P_DEFAULT;
            if (l.huge_n) {
                hsize_t chunk[3] = {64, T, F};
                if (rank == 2) chunk[1] = T * F;
                dcpl = H5Pcreate(H5P_DATASET_CREATE);
                H5Pset_chunk(dcpl, rank, chunk);
            }
            sp = H5Screate_simple(rank, rank == 2 ? d2 : fd, NULL);
            ds = H5Dcreate2(f, "features", l.features_type, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
            if (!l.huge_n) H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, feats);
            H5Dclose(ds);
            H5Sclose(sp);
            if (dcpl != H5P_DEFAULT) H5Pclose(dcpl);
        }
        if (strcmp(l.skip ? l.skip : "", "labels") != 0) {
            if (l.huge_n)
                put_dataset(f, "labels", l.labels_type, 1, ld, l.huge_n, NULL);
            else {
                sp = H5Screate_simple(1, ld, NULL);
                ds = H5Dcreate2(f, "labels", l.labels_type, sp, H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT);
                H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, labels);
                H5Dclose(ds);
                H5Sclose(sp);
            }
        }
        if (strcmp(l.skip ? l.skip : "", "num_frames") != 0) {
            if (l.huge_n)
                put_dataset(f, "num_frames", l.frames_type, 1, nd, l.huge_n, NULL);
            else {
                sp = H5Screate_simple(1, nd, NULL);
                ds = H5Dcreate2(f, "num_frames", l.frames_type, sp, H5P_DEFAULT, H5P_DEFAULT,
                                H5P_DEFAULT);
                H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, frames);
                H5Dclose(ds);
                H5Sclose(sp);
            }
        }
    }
    root = H5Gopen2(f, "/", H5P_DEFAULT);
    if (strcmp(l.skip ? l.skip : "", "category_mapping") != 0) {
        if (l.mapping_int)
            put_int_attr(root, "category_mapping", 3);
        else {
            hid_t st = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a;
            H5Tset_size(st, H5T_VARIABLE);
            a = H5Acreate2(root, "category_mapping", st, sp, H5P_DEFAULT, H5P_DEFAULT);
            H5Awrite(a, st, &l.mapping);
            H5Aclose(a);
            H5Sclose(sp);
            H5Tclose(st);
        }
    }
    if (strcmp(l.skip ? l.skip : "", "feature_dim") != 0) put_int_attr(root, "feature_dim", F);
    if (strcmp(l.skip ? l.skip : "", "max_frames") != 0) put_int_attr(root, "max_frames", T);
    if (strcmp(l.skip ? l.skip : "", "num_videos") != 0)
        put_int_attr(root, "num_videos", l.huge_n ? (int64_t)l.huge_n : l.num_videos);
    H5Gclose(root);
    H5Fclose(f);
}

static const char *scratch;
static char out_dir[4096];

static int train_on(const char *train_path, const char *val_path) {
    temporal_model_config c = rel_small_config(0);
    temporal_train_config tc = temporal_train_config_default();
    c.num_classes = 0;
    tc.epochs = 1;
    tc.batch_size = 4;
    return (int)temporal_train(train_path, val_path, out_dir, &c, &tc, NULL, NULL, NULL);
}

#define CASE(name, mod, want, needle) run_case(name, mod, want, needle, __LINE__)

static void run_case(const char *name, layout l, temporal_status want, const char *needle,
                     int line) {
    char p[4096];
    char file[256];
    snprintf(file, sizeof file, "%s.h5", name);
    rel_join(p, sizeof p, scratch, file);
    write_layout(p, l);
    rel_expect((temporal_status)train_on(p, NULL), want, needle, name, __FILE__, line);
}

int main(int argc, char **argv) {
    layout l;
    char p[4096], q[4096];
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    scratch = argv[1];
    rel_mkdirs(scratch);
    rel_join(out_dir, sizeof out_dir, scratch, "run");
    if (!temporal_hdf5_available()) {
        printf("badh5: this build has no HDF5 (nohdf5): skipped\n");
        return 0;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    CASE("good", good(), TEMPORAL_OK, NULL);
    l = good(); l.skip = "features";
    CASE("no-features", l, TEMPORAL_ERR_FORMAT, "missing dataset \"features\"");
    l = good(); l.skip = "labels";
    CASE("no-labels", l, TEMPORAL_ERR_FORMAT, "missing dataset \"labels\"");
    l = good(); l.skip = "num_frames";
    CASE("no-num-frames", l, TEMPORAL_ERR_FORMAT, "missing dataset \"num_frames\"");
    l = good(); l.skip = "category_mapping";
    CASE("no-mapping", l, TEMPORAL_ERR_FORMAT, "missing attribute \"category_mapping\"");
    l = good(); l.skip = "max_frames";
    CASE("no-max-frames", l, TEMPORAL_ERR_FORMAT, "missing attribute \"max_frames\"");
    l = good(); l.features_type = H5T_NATIVE_DOUBLE;
    CASE("features-f64", l, TEMPORAL_ERR_FORMAT, "\"features\" has the wrong element type");
    l = good(); l.labels_type = H5T_NATIVE_DOUBLE;
    CASE("labels-f64", l, TEMPORAL_ERR_FORMAT, "\"labels\" has the wrong element type");
    l = good(); l.labels_type = H5T_NATIVE_INT32;
    CASE("labels-i32", l, TEMPORAL_ERR_FORMAT, "\"labels\" has the wrong element type");
    l = good(); l.frames_type = H5T_NATIVE_INT64;
    CASE("frames-i64", l, TEMPORAL_ERR_FORMAT, "\"num_frames\" has the wrong element type");
    l = good(); l.features_rank2 = 1;
    CASE("features-rank2", l, TEMPORAL_ERR_FORMAT, "2 dimensions, want 3");
    l = good(); l.n_labels = N - 1;
    CASE("mismatched-n", l, TEMPORAL_ERR_FORMAT, "\"labels\" has 5 entries, features has 6");
    l = good(); l.num_videos = N + 2;
    CASE("num-videos", l, TEMPORAL_ERR_FORMAT, "num_videos = 8");
    l = good(); l.label0 = 3;
    CASE("label-range", l, TEMPORAL_ERR_FORMAT, "labels[0] = 3 out of range");
    l = good(); l.label0 = -1;
    CASE("label-negative", l, TEMPORAL_ERR_FORMAT, "labels[0] = -1 out of range");
    l = good(); l.frames0 = 0;
    CASE("frames-zero", l, TEMPORAL_ERR_FORMAT, "num_frames[0] = 0 out of range");
    l = good(); l.frames0 = T + 1;
    CASE("frames-beyond-T", l, TEMPORAL_ERR_FORMAT, "num_frames[0] = 6 out of range");
    l = good(); l.mapping = "{not json";
    CASE("mapping-json", l, TEMPORAL_ERR_FORMAT, "category_mapping");
    l = good(); l.mapping = "{\"a\": 0, \"b\": 5}";
    CASE("mapping-gap", l, TEMPORAL_ERR_FORMAT, "category_mapping");
    l = good(); l.mapping_int = 1;
    CASE("mapping-int", l, TEMPORAL_ERR_FORMAT, "\"category_mapping\" must be a string");
    l = good(); l.huge_n = (hsize_t)1 << 34;
    CASE("huge-n", l, TEMPORAL_ERR_OUT_OF_MEMORY, "limits");
    l = good(); l.feature0 = NAN;
    CASE("nan-feature", l, TEMPORAL_ERR_NUMERIC, "features of clip");
    /* the validation set disagrees with the training set */
    rel_join(p, sizeof p, scratch, "good.h5");
    rel_join(q, sizeof q, scratch, "no-labels.h5");
    EXPECT((temporal_status)train_on(p, q), TEMPORAL_ERR_FORMAT, "missing dataset \"labels\"");
    /* not HDF5 / no file / a directory / under a regular file */
    rel_join(q, sizeof q, scratch, "text.h5");
    CHECK(rel_write(q, "just text, not HDF5\n", 20));
    EXPECT((temporal_status)train_on(q, NULL), TEMPORAL_ERR_FORMAT, "not an HDF5 file");
    rel_join(q, sizeof q, scratch, "missing.h5");
    EXPECT((temporal_status)train_on(q, NULL), TEMPORAL_ERR_IO, "no such file");
    EXPECT((temporal_status)train_on(scratch, NULL), TEMPORAL_ERR_IO, "not a regular file");
    EXPECT((temporal_status)train_on("/etc/passwd/x.h5", NULL), TEMPORAL_ERR_IO,
           "not a directory");
    /* a truncated HDF5 file: libhdf5 reports it (raw corruption beyond this is libhdf5's parser) */
    {
        size_t n = 0;
        unsigned char *b = rel_read(p, &n);
        CHECK(b != NULL);
        if (b != NULL) {
            rel_join(q, sizeof q, scratch, "truncated.h5");
            CHECK(rel_write(q, b, n / 2));
            {
                temporal_status st = (temporal_status)train_on(q, NULL);
                CHECK(st == TEMPORAL_ERR_FORMAT || st == TEMPORAL_ERR_IO);
            }
            free(b);
        }
    }
    return rel_summary("badh5");
}
