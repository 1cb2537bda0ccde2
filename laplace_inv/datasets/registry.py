"""The registered real datasets: pinned URLs, checksums, sizes, units and reference peaks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_UPEN2DTOOL = (
    "https://raw.githubusercontent.com/fzama63/Upen2DTool/"
    "529846491712c09666254a18b767b0871f8a24d3/Upen2DTool/DATA"
)
_MUPEN2D = (
    "https://raw.githubusercontent.com/ElsevierSoftwareX/SOFTX-D-22-00071/"
    "5525fcb44414b1e831252860a60925715beeca1d/DATA"
)


@dataclass(frozen=True)
class DatasetSpec:
    """Registry entry of one real dataset.

    Attributes
    ----------
    key : str
        Dataset name (also the subfolder name under ``LAPLACE_INV_DATA`` and the cache).
    base_url : str
        Commit-pinned raw URL of the folder; a file's URL is ``base_url + "/" + name``.
    files : dict
        ``{file name: sha256}``.
    data_file, tau1_file, tau2_file : str
        Data matrix (rows = axis 1), row axis, column axis.
    kinds : tuple of str
        Kernel kinds.
    tau1_unit, tau2_unit : float
        SI units per file unit (1e-3 for ms, 1e9 for b in ms/µm²).
    grid1, grid2 : tuple or None
        ``(lo, hi)`` of the suggested 64-point grid in SI units; ``None`` picks
        `laplace_inv.kernels.default_grid`.
    reference_peaks : tuple of dict
        Reference peaks: ``position`` (SI, one value per axis), ``fraction`` (of the total
        signal, or None), ``label``, ``published`` (bool).
    reference_residual : float or None
        Relative residual ``‖K F − S‖/‖S‖`` of the published reference inversion.
    noise_std : float or None
        Noise standard deviation in data units, when known.
    licence, source, description : str
        Provenance.
    sizes : dict
        ``{file name: size in bytes}``; a download is stopped once it passes this size.
    """

    key: str
    base_url: str
    files: dict[str, str]
    data_file: str
    tau1_file: str
    tau2_file: str
    kinds: tuple[str, str]
    tau1_unit: float
    tau2_unit: float
    grid1: tuple[float, float] | None
    grid2: tuple[float, float] | None
    reference_peaks: tuple[dict[str, Any], ...]
    reference_residual: float | None
    noise_std: float | None
    licence: str
    source: str
    description: str
    sizes: dict[str, int] = field(default_factory=dict)

    def url(self, filename: str) -> str:
        """Pinned download URL of one file."""
        return f"{self.base_url}/{filename}"


REGISTRY: dict[str, DatasetSpec] = {
    "cement_t1t2_ircpmg": DatasetSpec(
        key="cement_t1t2_ircpmg",
        sizes={"S_IRCPMG.dat": 212808, "t_X.dat": 7879, "t_Y.dat": 375},
        base_url=f"{_UPEN2DTOOL}/T1-T2",
        files={
            "S_IRCPMG.dat": "c4216d5932ae638d94db2b1732d5369332e935ab55f480336f2a4388bcafdfa0",
            "t_X.dat": "83081875c53022f0830f55e1b9b3e20dfba808574712b132fa7d849996d470e0",
            "t_Y.dat": "2377895db9415be6f323a765c466895b63226af5f5bf55098add70da447ed1cc",
        },
        data_file="S_IRCPMG.dat",
        tau1_file="t_Y.dat",
        tau2_file="t_X.dat",
        kinds=("T1_IR", "T2"),
        tau1_unit=1e-3,
        tau2_unit=1e-3,
        grid1=None,
        grid2=None,
        reference_peaks=(
            {
                "position": (112.37e-3, 19.55e-3),
                "fraction": 0.85,
                "label": "main peak (T1 112.4 ms, T2 19.55 ms)",
                "published": True,
            },
            {
                "position": (97e-3, 0.79e-3),
                "fraction": 0.09,
                "label": "minor peak (T1 ≈ 97 ms, T2 ≈ 0.79 ms)",
                "published": True,
            },
        ),
        reference_residual=2.3e-2,
        noise_std=31.0,
        licence="GPL-3.0 (Upen2DTool)",
        source=(
            "github.com/fzama63/Upen2DTool @ 529846491712c09666254a18b767b0871f8a24d3, "
            "Upen2DTool/DATA/T1-T2/"
        ),
        description=(
            "White Portland cement paste, IR-CPMG T1-T2: 48 inversion delays (0.8 ms to 2.8 s, "
            "geometric) x 1000 echoes (TE 0.1078 ms), TR 3 s, 4 scans, SNR about 200. Signed "
            "raw amplitudes (first row negative, last positive). The real dataset of the "
            "DLEMLR paper's Fig. 2 and the Upen2DTool example. Reference: MUpen2D output "
            "(SOFTX-D-22-00071 @ 5525fcb, output_files), 80x80 grid, T1 and T2 in "
            "[1e-2, 1e3] ms; noise_std 31 is the residual standard deviation it reports."
        ),
    ),
    "maastricht_t2t2": DatasetSpec(
        key="maastricht_t2t2",
        sizes={"T2T2data2D.dat": 2894044, "T2T2axisA.dat": 50400, "T2T2axisB.dat": 2304},
        base_url=f"{_UPEN2DTOOL}/T2-T2",
        files={
            "T2T2data2D.dat": "8f03f1edaaf773ffcd13e7bc629b2d0973a08ea88d170f154bdfe8568d494c89",
            "T2T2axisA.dat": "8d2e3851cfb721da854a244b532348a7d1bdeaac782229ade9c0c28a37615c9b",
            "T2T2axisB.dat": "a51127ab99aa52f4b469ddf1987846a7961e4e29c6292b9448444a34a35e871e",
        },
        data_file="T2T2data2D.dat",
        tau1_file="T2T2axisB.dat",
        tau2_file="T2T2axisA.dat",
        kinds=("T2", "T2"),
        tau1_unit=1e-3,
        tau2_unit=1e-3,
        grid1=None,
        grid2=None,
        reference_peaks=(
            {
                "position": (272e-3, 303e-3),
                "fraction": 0.56,
                "label": "dominant diagonal peak (T2a ≈ 272 ms, T2b ≈ 303 ms)",
                "published": True,
            },
        ),
        reference_residual=9.8456e-3,
        noise_std=None,
        licence="GPL-3.0 (Upen2DTool)",
        source=(
            "github.com/fzama63/Upen2DTool @ 529846491712c09666254a18b767b0871f8a24d3, "
            "Upen2DTool/DATA/T2-T2/"
        ),
        description=(
            "Water-saturated Maastricht stone (calcarenite), CPMG-CPMG T2-T2: 128 first-CPMG "
            "times (0.3 to 840 ms) x 2800 second-CPMG echoes (0.3 to 840 ms). Mixing time very "
            "probably 100 µs, so the map should be mostly diagonal. Reference: Upen2DTool "
            "output, 64x64 grid (T2a in [1e-2, 3e3] ms, T2b in [1e-1, 3e3] ms), weak "
            "off-diagonal features."
        ),
    ),
    "sse_dt2": DatasetSpec(
        key="sse_dt2",
        sizes={"Data2D.dat": 98504, "DiffAxis.dat": 432, "T2Axis.dat": 944},
        base_url=f"{_MUPEN2D}/D-T2",
        files={
            "Data2D.dat": "e81e0f1751addc1a6b85fc4f9c7720cf0f04195723789b0dd98ae5feae045efc",
            "DiffAxis.dat": "945ae3d88c722fce7a249518f11f8c9f062f675df616e7e4e741506deaf09892",
            "T2Axis.dat": "79cf594615476f10e320a0a7bdcc3e86ce3721888f15bffb3ada8e917db697f8",
        },
        data_file="Data2D.dat",
        tau1_file="DiffAxis.dat",
        tau2_file="T2Axis.dat",
        kinds=("D", "T2"),
        tau1_unit=1e9,
        tau2_unit=1e-3,
        grid1=(1e-11, 1e-7),
        grid2=None,
        reference_peaks=(
            {
                "position": (1.1e-9, 1.3e-3),
                "fraction": None,
                "label": "dominant component (D ≈ 1–1.2 µm²/ms, T2 ≈ 0.8–1.9 ms)",
                "published": False,
            },
            {
                "position": (1.1e-8, 0.65e-3),
                "fraction": None,
                "label": "minor component (D ≈ 11 µm²/ms, T2 ≈ 0.65 ms)",
                "published": False,
            },
        ),
        reference_residual=None,
        noise_std=None,
        licence="MUpen2D freeware licence: no resale or sublicensing",
        source=(
            "github.com/ElsevierSoftwareX/SOFTX-D-22-00071 @ "
            "5525fcb44414b1e831252860a60925715beeca1d, DATA/D-T2/"
        ),
        description=(
            "Static-gradient stimulated-echo CPMG, D-T2 (sample not described): 48 b-values "
            "(0.019 to 1.277 ms/µm², taken as 1e9 s/m² per unit) x 200 echoes (0.04 to 8 ms). "
            "Low SNR (about 10 to 20). The authors' grids: D in [1e-2, 1e2] µm²/ms, T2 in "
            "[0.1, 100] ms. No reference map is published; the reference peaks come from a "
            "quick non-negative Tikhonov inversion and are indicative only."
        ),
    ),
}
"""The registered real datasets, keyed by name."""
