/**
 * Neural reward sources: a DJL reward model ({@code rm:DIR}) or a TorchScript one ({@code torchscript:FILE}) behind
 * {@link io.streamrlhf.rewardstream.scoring.model.ModelRewardSource}, a Hugging Face sequence-classification folder
 * ({@code hf:DIR}) behind {@link io.streamrlhf.rewardstream.scoring.model.HfRewardSource}, checkpoint verification
 * by sha256, the hot swap of a running model to a version published on {@code rm.versions}, and the frozen KL
 * reference policy, from a directory or a policy version published on Kafka.
 */
package io.streamrlhf.rewardstream.scoring.model;
