"""Write the embedded demo dataset ``laplace_inv/data/cement_like_demo.npz``.

The file is a cement-like IR-CPMG simulation (48 inversion delays × 1000 echoes, the layout of
the real white-cement acquisition) made by ``laplace_inv.simulate.cement_like`` with a fixed
seed. ``laplace-inv demo`` falls back to it when the real cement data can be neither found nor
downloaded. The zip is written byte-reproducibly (fixed member order and timestamps), so
rerunning this script reproduces the sha256 that ``laplace_inv.data`` checks on load:

    python scripts/make_demo_data.py           # rewrite the file, print its sha256
    python scripts/make_demo_data.py --check   # regenerate in memory, compare with the file
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import zipfile

import numpy as np

from laplace_inv.data import DEMO_FILE, DEMO_SEED, DEMO_SNR
from laplace_inv.simulate import cement_like

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def demo_arrays() -> dict[str, np.ndarray]:
    """The arrays of the demo file, computed from the simulator."""
    sc = cement_like(snr=DEMO_SNR, random_state=DEMO_SEED)
    peaks = sc.true_peaks()
    return {
        "data": sc.data.astype(np.float32),
        "tau1": np.asarray(sc.kernel.axis1.tau, dtype=np.float64),
        "tau2": np.asarray(sc.kernel.axis2.tau, dtype=np.float64),
        "kinds": np.array(sc.kernel.kinds, dtype="<U8"),
        "noise_std": np.array(sc.noise_std, dtype=np.float64),
        "peak_positions": np.array([p.position for p in peaks], dtype=np.float64),
        "peak_fractions": np.array([p.fraction for p in peaks], dtype=np.float64),
    }


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """A deflated ``.npz`` whose bytes depend only on the arrays."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]))
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    content = npz_bytes(demo_arrays())
    digest = hashlib.sha256(content).hexdigest()
    if args.check:
        same = DEMO_FILE.is_file() and DEMO_FILE.read_bytes() == content
        print(f"{DEMO_FILE}: {'identical' if same else 'DIFFERS'} (regenerated sha256 {digest})")
        return 0 if same else 1
    tmp = DEMO_FILE.with_name(DEMO_FILE.name + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(DEMO_FILE)
    print(f"wrote {DEMO_FILE} ({len(content)} bytes), sha256 {digest}")
    print("set DEMO_SHA256 in laplace_inv/data/__init__.py to this value")
    return 0


if __name__ == "__main__":
    sys.exit(main())
