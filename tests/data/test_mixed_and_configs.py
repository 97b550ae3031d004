from __future__ import annotations

from pathlib import Path

import pytest
from hydra.utils import instantiate

from tsb.data import keys as K
from tsb.data.mixed import MixedBatchSampler
from tsb.data.synth import SynthData


def test_mixed_sampler_ratio_and_resume() -> None:
    s = MixedBatchSampler((100, 40), 4, real_ratio=0.25, seed=3)
    it = iter(s)
    batches = [next(it) for _ in range(400)]
    real = [b for b in batches if all(i >= 100 for i in b)]
    synth = [b for b in batches if all(i < 100 for i in b)]
    assert len(real) + len(synth) == 400  # each batch from one source
    assert 0.18 < len(real) / 400 < 0.32
    resumed = iter(MixedBatchSampler((100, 40), 4, real_ratio=0.25, seed=3, start_batch=123))
    assert [next(resumed) for _ in range(50)] == batches[123:173]


@pytest.mark.parametrize("name", ["synth", "synth_simple", "synth_cyrillic"])
def test_synth_configs_compose_and_instantiate(cfg_factory, name: str) -> None:
    cfg = cfg_factory([f"data={name}", "data.train_size=20", "data.val_size=4"])
    dm = instantiate(cfg.data)
    assert isinstance(dm, SynthData) and dm.seed == cfg.seed
    item = dm.train_dataset()[0]
    assert item[K.STYLE].shape == (3, 64, cfg.data.width)


def test_default_data_is_synth(cfg_factory) -> None:
    cfg = cfg_factory([])
    assert cfg.data._target_ == "tsb.data.synth.SynthData"


def test_simple_config_is_milder(cfg_factory) -> None:
    simple = instantiate(cfg_factory(["data=synth_simple"]).data)
    assert simple.effects.p_perspective == 0 and simple.effects.p_curve == 0 and simple.effects.p_rotate == 0
    assert simple.effects.background.get("photo", 0) == 0 and simple.font_split == "train"


@pytest.mark.parametrize("name", ["paired", "scene_folder", "imgur5k", "mixed"])
def test_folder_configs_require_a_root(cfg_factory, name: str) -> None:
    from omegaconf.errors import MissingMandatoryValue

    cfg = cfg_factory([f"data={name}"])
    with pytest.raises(MissingMandatoryValue):
        instantiate(cfg.data)


def test_mixed_config_with_real_words(cfg_factory, real_words: Path) -> None:
    cfg = cfg_factory(
        [
            "data=mixed",
            f"data.real.root={real_words}",
            "data.batch_size=2",
            "data.synth.train_size=20",
            "data.num_workers=0",
            "data.persistent_workers=false",
        ]
    )
    dm = instantiate(cfg.data)
    it = iter(dm.train_loader())
    kinds = set()
    for _ in range(8):
        batch = next(it)
        kinds.add(K.TARGET in batch)
        assert batch[K.STYLE].shape == (2, 3, 64, 256)
    assert kinds == {True, False}


def test_paired_config_reads_a_folder(cfg_factory, tmp_path: Path) -> None:
    from tsb.data.synth import main

    main(["render", "--n", "2", "--out", str(tmp_path / "p")])
    dm = instantiate(cfg_factory(["data=paired", f"data.root={tmp_path / 'p'}"]).data)
    assert len(dm.val_dataset()) == 2 and len(dm.train_dataset()) == 2
