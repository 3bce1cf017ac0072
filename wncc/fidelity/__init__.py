"""Audio fidelity of vocoder output: metrics, a Griffin-Lim baseline and the mu-law ceiling.

The Griffin-Lim functions stay in the module ``wncc.fidelity.griffin_lim`` (a function of the
same name re-exported here would shadow the module attribute).
"""

from wncc.fidelity.baselines import baselines, mulaw_roundtrip
from wncc.fidelity.griffin_lim import mel_to_magnitude, vocode
from wncc.fidelity.metrics import (fidelity_table, log_spectral_distance, mel_cepstral_distortion,
                                   nll_bits, pesq_wb, snr_db, stoi)

__all__ = ["baselines", "fidelity_table", "log_spectral_distance",
           "mel_cepstral_distortion", "mel_to_magnitude", "mulaw_roundtrip", "nll_bits",
           "pesq_wb", "snr_db", "stoi", "vocode"]
