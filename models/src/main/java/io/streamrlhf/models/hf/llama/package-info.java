/**
 * The Llama family ({@code LlamaForCausalLM}, {@code Qwen2ForCausalLM}, {@code MistralForCausalLM}), as
 * transformers' {@code modeling_llama.py} computes it: RMSNorm in float32, rotary position embeddings with
 * {@code rope_theta} and {@code rotate_half}, grouped-query attention, a SwiGLU MLP; Qwen2 adds q/k/v biases,
 * Llama's {@code attention_bias} adds biases to q/k/v/o. Parameters carry the checkpoint's names
 * ({@code model.layers.0.self_attn.q_proj.weight}).
 */
package io.streamrlhf.models.hf.llama;
