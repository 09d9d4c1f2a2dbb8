/**
 * Sampling from a policy: batched, KV-cached, seeded, with temperature, top-k, top-p, EOS and a
 * token budget, returning the log-probs of the sampled tokens under the distribution used.
 */
package io.streamrlhf.models.sampling;
