/**
 * Separate critics: the {@link io.streamrlhf.models.critic.ValueModel} contract (a value per position, trained
 * beside the policy rather than as a head on its trunk) and our transformer reward model read at every position
 * as one ({@link io.streamrlhf.models.critic.TransformerValueModel}); the Hugging Face one is
 * {@link io.streamrlhf.models.hf.HfValueModel}, and {@link io.streamrlhf.models.load.CriticLoader} builds either
 * from a reward model.
 */
package io.streamrlhf.models.critic;
