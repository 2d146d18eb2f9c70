// Package cuda runs a core.Model's inference on NVIDIA GPUs (DESIGN §6): weights uploaded once
// per model, matrix products through cuBLAS, the rest in libtemporal's own kernels
// (kernels.cu, shipped as the embedded kernels.fatbin), every CUDA call of one device on one
// locked OS thread that owns the device's retained primary context.
//
// The backend is compiled into every build and touches nothing CUDA until a caller asks for a
// device: the driver and cuBLAS are dlopened then (package cu), so a host without them gets an
// error of kind core.KindDevice naming what is missing. The build tag nocuda replaces it with a
// stub whose every call returns that kind of error ("built without CUDA").
package cuda
