//! Losses and training loops: pretraining, SFT, the DPO family, RLVR; the optimizer.
