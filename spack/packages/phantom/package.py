# Spack package for Phantom. Use it from this checkout:
#   spack repo add ./spack && spack install phantom+mpi+hdf5
#   spack install phantom+mpi+hdf5+cuda+nccl cuda_arch=90
import os

from spack.package import *


class Phantom(CMakePackage, CudaPackage, ROCmPackage):
    """Phantom parallelism for feed-forward networks on Kokkos: trains and runs
    FFNs across many GPUs or CPU ranks moving fewer bytes and doing fewer FLOPs
    than tensor parallelism, with the TP baselines, HDF5 checkpoints and
    mini-apps driven by input decks."""

    # The version comes from the git tree this package file sits in.
    git = "file://" + os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
    maintainers("phantom-developers")
    license("UNKNOWN")

    version("main", branch="main")

    variant("mpi", default=True, description="MPI communicator and multi-rank runs")
    variant("hdf5", default=True, description="Parallel HDF5 checkpoints and data sets")
    variant("nccl", default=False, description="NCCL communicator (needs +cuda)")
    variant("openmp", default=False, description="Kokkos OpenMP backend")
    variant("tests", default=False, description="Build the GoogleTest suite and benchmarks")
    variant("fortran", default=True, description="The Fortran module over the C API (needs +mpi+hdf5)")

    depends_on("cmake@3.20:", type="build")
    depends_on("kokkos@3.4:")
    # The C API is a shared library with Kokkos inside: Kokkos must be shared.
    depends_on("kokkos+shared", when="+mpi+hdf5")
    # +lapack too: Kokkos Kernels 4.2's BLAS TPL calls zrot_, which is LAPACK's,
    # and a Kokkos Kernels built without it leaves phantom-train unlinkable.
    depends_on("kokkos-kernels@3.4:+blas+lapack")
    depends_on("tomlplusplus")
    depends_on("mpi", when="+mpi")
    depends_on("hdf5+mpi", when="+hdf5")
    depends_on("nccl", when="+nccl")
    depends_on("googletest", when="+tests")
    depends_on("benchmark", when="+tests")

    conflicts("+hdf5", when="~mpi", msg="checkpoints are parallel HDF5: +hdf5 needs +mpi")
    conflicts("+nccl", when="~cuda", msg="NCCL needs +cuda")
    conflicts("+nccl", when="~mpi", msg="the NCCL id is exchanged over MPI")
    conflicts("+cuda", when="+rocm")

    # GPU builds hand Phantom's stream to every kernel and GEMM: Kokkos Kernels
    # takes an execution-space instance in its BLAS from 4.1, and Kokkos::HIP
    # (not Experimental::HIP) is Kokkos 4's. The CPU backends work from 3.4.
    depends_on("kokkos@4.1:", when="+cuda")
    depends_on("kokkos-kernels@4.1:", when="+cuda")
    depends_on("kokkos@4.1:", when="+rocm")
    depends_on("kokkos-kernels@4.1:", when="+rocm")
    # The Kokkos backend follows Phantom's, down to the GPU architecture.
    depends_on("kokkos+openmp", when="+openmp")
    depends_on("kokkos-kernels+openmp", when="+openmp")
    for _arch in CudaPackage.cuda_arch_values:
        depends_on(f"kokkos+cuda+wrapper cuda_arch={_arch}", when=f"+cuda cuda_arch={_arch}")
        depends_on(f"kokkos-kernels+cuda+cublas cuda_arch={_arch}",
                   when=f"+cuda cuda_arch={_arch}")
    # Kokkos Kernels has no ROCm variant of its own: it follows its Kokkos.
    for _target in ROCmPackage.amdgpu_targets:
        depends_on(f"kokkos+rocm amdgpu_target={_target}", when=f"+rocm amdgpu_target={_target}")

    def cmake_args(self):
        args = [
            self.define_from_variant("PHANTOM_ENABLE_MPI", "mpi"),
            self.define_from_variant("PHANTOM_ENABLE_HDF5", "hdf5"),
            self.define_from_variant("PHANTOM_ENABLE_NCCL", "nccl"),
            self.define_from_variant("PHANTOM_ENABLE_TESTS", "tests"),
            self.define("PHANTOM_ENABLE_C_API", self.spec.satisfies("+mpi+hdf5")),
            self.define("PHANTOM_ENABLE_FORTRAN", self.spec.satisfies("+fortran+mpi+hdf5")),
            self.define_from_variant("PHANTOM_ENABLE_BENCHMARKS", "tests"),
            self.define("PHANTOM_ENABLE_APPS", True),
            self.define("Kokkos_ROOT", self.spec["kokkos"].prefix),
        ]
        if self.spec.satisfies("+cuda"):
            # A CUDA Kokkos compiles through its nvcc_wrapper.
            args.append(self.define("CMAKE_CXX_COMPILER", self.spec["kokkos"].kokkos_cxx))
            args.append(self.define("CUDAToolkit_ROOT", self.spec["cuda"].prefix))
        if self.spec.satisfies("+rocm"):
            args.append(self.define("CMAKE_CXX_COMPILER", self.spec["hip"].hipcc))
        return args
