//go:build nohdf5

package core

// HDF5Available reports whether this build can read and write HDF5 datasets.
const HDF5Available = false

// HDF5Dataset is unavailable in a nohdf5 build (the .so that needs only libc).
type HDF5Dataset struct{ MemDataset }

// OpenHDF5Dataset always fails in a nohdf5 build.
func OpenHDF5Dataset(path string) (*HDF5Dataset, error) {
	return nil, Errf(KindUnsupported, "dataset %s: this build has no HDF5 support (built with the nohdf5 tag)", path)
}

// WriteHDF5Dataset always fails in a nohdf5 build.
func WriteHDF5Dataset(path string, d Dataset) error {
	return Errf(KindUnsupported, "dataset %s: this build has no HDF5 support (built with the nohdf5 tag)", path)
}
