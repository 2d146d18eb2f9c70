//go:build nocuda

package cuda

import (
	"strings"
	"testing"

	"libtemporal/core"
)

func TestStub(t *testing.T) {
	if Available {
		t.Fatal("Available in a nocuda build")
	}
	m, err := core.NewModelInit(core.DefaultConfig(), 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewModel(m, 0)
	if core.KindOf(err) != core.KindDevice || !strings.Contains(err.Error(), "built without CUDA") {
		t.Fatalf("NewModel: %v", err)
	}
	if n, err := DeviceCount(); n != 0 || core.KindOf(err) != core.KindDevice {
		t.Fatalf("DeviceCount = %d, %v", n, err)
	}
}
