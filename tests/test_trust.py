"""`vecnormalize.pkl` beside an SB3 zip is unpickled only with trust (checked before any
byte of either file is read)."""

from __future__ import annotations

import os
import pickle

import pytest

from aigc_opt.drl_compare.env import AIGCDataCenterEnv
from aigc_opt.drl_compare.policies import PolicyLoadError, load_policy


class Payload:
    """Unpickling this creates ``path`` (stands for arbitrary code)."""

    def __init__(self, path: str):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (self.path,))


def test_vecnormalize_payload_is_not_run_without_trust(tmp_path):
    from aigc_opt.data.catalog import load_scenario

    env = AIGCDataCenterEnv(load_scenario("tiny"), horizon=3)
    marker = tmp_path / "PWNED"
    (tmp_path / "vecnormalize.pkl").write_bytes(pickle.dumps(Payload(str(marker))))
    (tmp_path / "model.zip").write_bytes(pickle.dumps(Payload(str(marker))))
    with pytest.raises(PolicyLoadError, match="--trust"):
        load_policy(tmp_path / "model.zip", env.observation_space, env.action_space)
    assert not marker.exists()
