/**
 * DJL/PyTorch models: the policy transformer with a value head, the KV-cache sampler, the reward model,
 * tokenizers, the checkpoint format, TorchScript adapters and the synthetic world. Knows no Kafka.
 */
package io.streamrlhf.models;
