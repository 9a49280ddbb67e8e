"""Writes tests/extract/fixtures/sparse_resnets.pdf from the text below, with fpdf2.

The PDF is shipped so the extractor's tests and benchmark need no PDF writer; a test
writes it again and checks the extract is the same. Run ``python tests/extract/make_pdf.py``
after changing the text. The paper is made up for the tests.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

TITLE = "Prune Early, Train Late: SparseRes Networks at Small Scale"
AUTHORS = "Ada Quill, Bram Oster, Chen Wu"
#: (heading or None, paragraph or table); a table is (caption, header rows, body rows).
Block = tuple[str | None, object]
BODY: list[Block] = [
    (
        "Abstract",
        "We study residual networks pruned at initialisation and find that an 80% sparse "
        "network loses less than one point of accuracy on small image benchmarks.",
    ),
    (
        "1 Introduction",
        "Pruning is usually applied after training [3]. We ask whether it can be applied "
        "before, and report results on two datasets in Section 3.",
    ),
    ("2 Method", ""),
    (
        "2.1 Architecture",
        "Our network is a residual network with 20 layers and a width of 64 channels in the "
        "first stage. Weights are initialized with He initialization, and the last layer is "
        "initialised to zero. A mask removes 80% of the weights of every convolution.",
    ),
    ("3 Experiments", ""),
    (
        "3.1 Setup",
        "We evaluate on CIFAR-10 and SVHN. CIFAR-10 has 50,000 training images and 10,000 "
        "test images; we hold out 5,000 training images as a validation set. We train with "
        "SGD with Nesterov momentum of 0.9, a batch size of 128 and an initial learning rate "
        "of 0.1 for 200 epochs. The learning rate follows a cosine schedule after a linear "
        "warmup of 5 epochs. Weight decay is set to 0.0005. We use standard data "
        "augmentation: random crops with 4-pixel padding and horizontal flips. The "
        "classifier uses dropout with rate 0.3. For SVHN we train for 40 epochs. All "
        "results are averaged over 5 random seeds.",
    ),
    (
        None,
        "After pruning, the mask is fine-tuned with Adam with beta_1 = 0.9 and "
        "beta_2 = 0.999 and a learning rate of 1e-3, see Table 1.",
    ),
    ("3.2 Results", ""),
    (
        None,
        (
            "Table 1: Test accuracy (%) on CIFAR-10 and SVHN. Mean ± standard deviation "
            "over 5 seeds.",
            [["Method", "CIFAR-10", "SVHN"]],
            [
                ["Dense baseline", "94.2 ± 0.1", "96.3 ± 0.1"],
                ["Magnitude pruning", "92.8 ± 0.3", "95.9 ± 0.2"],
                ["SparseRes (80% sparse)", "93.6 ± 0.2", "96.1 ± 0.1"],
            ],
        ),
    ),
    (None, "Table 2 varies the sparsity on CIFAR-10 with a single seed."),
    (
        None,
        (
            "Table 2: Ablation on CIFAR-10: test accuracy (%) of SparseRes at each sparsity.",
            [["Method", "50%", "80%", "90%"]],
            [["SparseRes", "94.0", "93.6", "92.1"]],
        ),
    ),
    ("4 Conclusion", "Pruning at initialisation costs little at this scale."),
    ("A Hyperparameters", ""),
    (
        None,
        (
            "Table 3: Hyperparameters of all CIFAR-10 runs.",
            [["Hyperparameter", "Value"]],
            [
                ["Optimizer", "SGD (Nesterov)"],
                ["Learning rate", "0.1"],
                ["Batch size", "128"],
                ["Epochs", "200"],
                ["Warmup epochs", "5"],
                ["Weight decay", "5e-4"],
                ["Momentum", "0.9"],
                ["Dropout (classifier)", "0.3"],
                ["LR schedule", "cosine"],
            ],
        ),
    ),
]


def pdf_bytes() -> bytes:
    """The fixture PDF, written with fpdf2's core fonts (no font files needed)."""
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc))
    pdf.set_producer("pytest-repro tests")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, TITLE, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, AUTHORS, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    for heading, content in BODY:
        if heading:
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(0, 7, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        if isinstance(content, str):
            if content:
                pdf.multi_cell(0, 5, content, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(2)
            continue
        caption, header, rows = content  # type: ignore[misc]
        pdf.multi_cell(0, 5, caption, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
        with pdf.table(first_row_as_headings=True, line_height=6) as table:
            for row in [*header, *rows]:
                cells = table.row()
                for cell in row:
                    cells.cell(cell)
        pdf.ln(3)
    return bytes(pdf.output())


if __name__ == "__main__":
    target = Path(__file__).parent / "fixtures" / "sparse_resnets.pdf"
    target.write_bytes(pdf_bytes())
    print(f"wrote {target}")
