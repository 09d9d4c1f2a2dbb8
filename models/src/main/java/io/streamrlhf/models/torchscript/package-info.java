/**
 * TorchScript adapters: a user's TorchScript policy (logits and values) or reward model (score and
 * pooled representation), loaded through DJL as a {@code PtSymbolBlock} and used through the same
 * {@link io.streamrlhf.models.policy.PolicyModel} and {@link io.streamrlhf.models.reward.RewardModel}
 * interfaces as our own models, trainable in place. The fixture and the script that makes it are
 * {@code models/src/test/resources/torchscript/} and {@code models/scripts/make_torchscript_fixture.py}.
 */
package io.streamrlhf.models.torchscript;
