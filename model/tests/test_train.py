"""train.py's distillation from a Transformer (--teacher): the loss term, where it applies, and a
short run that learns to imitate a teacher."""
import csv
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import train
from model import LM, Config


def test_distillation_loss_is_the_mean_kl_over_the_chosen_positions():
    torch.manual_seed(0)
    student, teacher = torch.randn(5, 7, 11), torch.randn(5, 7, 11) * 3
    mask = torch.rand(5, 7) < 0.6
    per_position = F.kl_div(F.log_softmax(student, -1), F.log_softmax(teacher, -1), log_target=True,
                            reduction="none").sum(-1)
    expected = per_position[mask].mean()
    for rows in (1, 2, 8):
        assert torch.allclose(train.distillation_loss(student, teacher, mask, rows), expected, rtol=1e-5)
    assert train.distillation_loss(teacher, teacher, mask).abs() < 1e-6
    assert train.distillation_loss(student, teacher, torch.zeros(5, 7, dtype=torch.bool)) == 0


def test_distillation_mask_needs_the_teacher_to_have_read_enough():
    tgt = torch.zeros(3, 6, dtype=torch.long)
    tgt[2, 4:] = train.PAD_TARGET                     # a document's end: no targets
    fresh = torch.tensor([False, True, False])
    m = train.distillation_mask(tgt, fresh, 2)
    assert m[0].tolist() == [False, False, True, True, True, True]   # mid-document: from position 2
    assert m[1].all()                                                 # a document's start: everywhere
    assert m[2].tolist() == [False, False, True, True, False, False]


def test_a_short_run_learns_to_imitate_its_teacher(tmp_path, monkeypatch):
    """--teacher with --distill 1: the logged KL falls, the cross-entropy is what loss.csv logs,
    and the checkpoint records the teacher."""
    torch.manual_seed(1)
    teacher = LM(Config(arch="transformer", d_model=32, n_layer=1, n_head=4))
    with torch.no_grad():
        teacher.embed.weight.mul_(40)                 # a peaked distribution, far from the student's
    torch.save({"config": teacher.cfg.to_dict(), "training": {}, "model": {k: v.half() for k, v in teacher.state_dict().items()}},
               tmp_path / "teacher.pt")
    data = tmp_path / "data"
    data.mkdir()
    rnd = np.random.RandomState(0)
    np.save(data / "train.tokens.npy", rnd.randint(5, 300, size=20000).astype(np.uint16))
    np.save(data / "train.docs.npy", np.arange(0, 20000, 500).astype(np.int64))
    out = tmp_path / "run"
    monkeypatch.setattr(sys, "argv", ["train.py", "--arch", "flowformer", "--d-model", "32", "--layers", "2", "--heads", "4",
                                      "--seq", "32", "--batch", "4", "--tokens", str(32 * 4 * 40), "--lr", "1e-2",
                                      "--warmup", "2", "--data", str(data), "--out", str(out),
                                      "--teacher", str(tmp_path / "teacher.pt"), "--distill", "1", "--distill-context", "4"])
    train.main()
    rows = list(csv.DictReader(open(out / "loss.csv")))
    kl = [float(r["kl"]) for r in rows]
    assert kl[-1] < 0.5 * kl[0], kl             # without the teacher in the loss: 0.67x here
    assert all(float(r["loss"]) > 0 for r in rows)
    record = torch.load(out / "ckpt.pt", map_location="cpu")["training"]
    assert record["teacher"] == "teacher.pt" and record["distill"] == 1.0


def test_the_teacher_must_be_a_transformer(tmp_path):
    lm = LM(Config(arch="flowformer", d_model=32, n_layer=1, n_head=4))
    torch.save({"config": lm.cfg.to_dict(), "model": lm.state_dict()}, tmp_path / "t.pt")
    with pytest.raises(AssertionError, match="Transformer"):
        train.load_teacher(str(tmp_path / "t.pt"), "cpu")
