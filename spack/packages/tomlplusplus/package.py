# toml++, which Phantom parses its input decks with. Spack's builtin repo of
# some releases lacks it; this recipe fills the gap (or declare the system's
# copy as an external: docs/spack.md).
from spack.package import *


class Tomlplusplus(CMakePackage):
    """Header-only TOML config file parser and serializer for C++17."""

    homepage = "https://marzer.github.io/tomlplusplus/"
    url = "https://github.com/marzer/tomlplusplus/archive/refs/tags/v3.3.0.tar.gz"

    # sha256 of `git archive --prefix=tomlplusplus-3.3.0/ v3.3.0 | gzip -cn`,
    # the form GitHub's release tarballs take.
    version("3.3.0", sha256="fc1a5eb410f3c67e90e5ad1264a1386d020067cfb01b633cc8c0441789aa6cf2")

    depends_on("cmake@3.14:", type="build")
