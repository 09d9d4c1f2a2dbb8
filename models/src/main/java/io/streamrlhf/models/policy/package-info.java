/**
 * The policy: the {@link io.streamrlhf.models.policy.PolicyModel} contract, our causal transformer
 * with LM and value heads ({@link io.streamrlhf.models.policy.TransformerPolicy}) and log-prob helpers.
 */
package io.streamrlhf.models.policy;
