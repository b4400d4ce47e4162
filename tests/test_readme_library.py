"""The README's section "## The library": its code block runs as shown (a doctest), and the numbers it shows are
the losses of its example, computed here at 50 digits from the definitions (PyTorch's target and the note's)."""
import doctest
import re
from pathlib import Path

import mpmath

ROOT = Path(__file__).resolve().parents[1]


def library_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## The library\n(.*?)(?=^## )", readme, re.S | re.M)
    assert section, "README.md has a section '## The library'"
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), re.S)
    assert len(blocks) == 1, "one python block in the section"
    return blocks[0]


def test_the_readme_library_block_runs_as_shown():
    block = library_block()
    assert len([line for line in block.splitlines() if line.startswith(">>> ")]) == 5, "five lines"
    assert "torch.nn.functional.cross_entropy" in block and "label_smoothing=0.1" in block and "eps=0.1" in block
    test = doctest.DocTestParser().get_doctest(block, {}, "README.md", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert runner.summarize(verbose=False).attempted == 5


def test_the_readme_numbers_are_the_definitions():
    """Row 0, z = (2, 0, -1), label 0 (row 1 is ignored, so the mean is row 0's loss): sum_j p_j (LSE(z) - z_j)
    with p = (1 - a) onehot + a/3 at a = 0.1 (PyTorch), and p = (0.9, 0.05, 0.05) (the note's eps = 0.1)."""
    shown = [float(v) for v in re.findall(r"np\.float64\(([\d.]+)\.\.\.\)", library_block())]
    with mpmath.workdps(50):
        z = [mpmath.mpf(2), mpmath.mpf(0), mpmath.mpf(-1)]
        lse = mpmath.log(mpmath.fsum(mpmath.exp(v) for v in z))

        def loss(p):
            return mpmath.fsum(pj * (lse - zj) for pj, zj in zip(p, z))
        a, e = mpmath.mpf("0.1"), mpmath.mpf("0.1")
        want = [loss([1 - a + a / 3, a / 3, a / 3]), loss([1 - e, e / 2, e / 2])]
    assert len(shown) == 2
    for s, w in zip(shown, want):
        digits = len(str(s).split(".")[1])
        assert 0 <= float(w) - s < 10.0 ** -digits, (s, w)      # the shown digits are the leading ones
