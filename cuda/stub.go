//go:build nocuda

package cuda

import "libtemporal/core"

// Available reports that this build has the CUDA backend (false under the nocuda tag).
const Available = false

func errNoCUDA() error {
	return core.Errf(core.KindDevice, "CUDA: this libtemporal was built without CUDA (build tag nocuda)")
}

// SetCublasPath does nothing in a build without CUDA.
func SetCublasPath(string) error { return nil }

// DeviceCount is 0 with an error in a build without CUDA.
func DeviceCount() (int, error) { return 0, errNoCUDA() }

// DeviceName fails in a build without CUDA.
func DeviceName(int) (string, error) { return "", errNoCUDA() }

// MemInfo fails in a build without CUDA.
func MemInfo(int) (free, total uint64, err error) { return 0, 0, errNoCUDA() }

// Model is never created in a build without CUDA.
type Model struct{}

// NewModel fails in a build without CUDA.
func NewModel(*core.Model, int) (*Model, error) { return nil, errNoCUDA() }

func (*Model) Device() int { return -1 }

func (*Model) Close() error { return nil }

func (*Model) Forward([]float32, int, int, []int32, core.Padding, []float32, []float32) error {
	return errNoCUDA()
}
