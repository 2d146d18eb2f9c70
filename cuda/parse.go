package cuda

import (
	"strconv"
	"strings"

	"libtemporal/core"
)

// ParseDevice reads a device string: -1 for "cpu", N for "cuda:N" ("cuda" is "cuda:0", the
// N-th visible device as in PyTorch). A CUDA device must exist: otherwise a KindDevice error
// with the reason (no driver, cuInit's error, too few devices, a build without CUDA). A
// malformed string is KindInvalidArgument. Shared by the C API and the CLI.
func ParseDevice(dev string) (int, error) {
	ord := 0
	switch {
	case dev == "cpu":
		return -1, nil
	case dev == "cuda":
	case strings.HasPrefix(dev, "cuda:"):
		n, err := strconv.Atoi(dev[len("cuda:"):])
		if err != nil || n < 0 || strings.ContainsAny(dev[len("cuda:"):], "+- ") {
			return 0, core.Errf(core.KindInvalidArgument, "device %q: want \"cpu\", \"cuda\" or \"cuda:N\" with N >= 0", dev)
		}
		ord = n
	default:
		return 0, core.Errf(core.KindInvalidArgument, "unknown device %q: want \"cpu\", \"cuda\" or \"cuda:N\"", dev)
	}
	n, err := DeviceCount()
	if err != nil {
		return 0, core.Wrap(core.KindDevice, err, "device %q", dev)
	}
	if ord >= n {
		return 0, core.Errf(core.KindDevice, "device %q: %d CUDA device(s) visible", dev, n)
	}
	return ord, nil
}
