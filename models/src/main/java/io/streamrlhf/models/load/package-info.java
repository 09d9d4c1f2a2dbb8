/**
 * Rebuilding a policy from whatever a user points at: a checkpoint of the project's own transformer, a
 * Hugging Face causal-LM folder, or a checkpoint made from one; and the sampler that suits each.
 */
package io.streamrlhf.models.load;
