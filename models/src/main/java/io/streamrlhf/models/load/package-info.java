/**
 * Rebuilding a policy from whatever a user points at: a checkpoint of the project's own transformer, a
 * Hugging Face causal-LM folder, or a checkpoint made from one; and the sampler that suits each. Likewise a
 * separate critic from a reward model ({@link io.streamrlhf.models.load.CriticLoader}), checked against the
 * policy's tokenization.
 */
package io.streamrlhf.models.load;
