//go:build nohdf5

package core

import "testing"

// TestNoHDF5: a nohdf5 build reports HDF5 datasets as unsupported.
func TestNoHDF5(t *testing.T) {
	if _, err := OpenHDF5Dataset("x.h5"); KindOf(err) != KindUnsupported {
		t.Errorf("open: %v", err)
	}
	if err := WriteHDF5Dataset("x.h5", SyntheticOrderDataset(4, 3, 3, 4, 1)); KindOf(err) != KindUnsupported {
		t.Errorf("write: %v", err)
	}
}
