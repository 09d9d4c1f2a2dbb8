/**
 * GPT-2 ({@code GPT2LMHeadModel}), as transformers' {@code modeling_gpt2.py} computes it: learned position
 * embeddings, pre-LayerNorm blocks, {@code Conv1D} projections whose weights are stored {@code [in, out]},
 * the tanh GELU ({@code gelu_new}) and an output projection tied to {@code transformer.wte.weight} unless
 * {@code tie_word_embeddings} is false. Parameters carry the checkpoint's names
 * ({@code transformer.h.0.attn.c_attn.weight}).
 */
package io.streamrlhf.models.hf.gpt2;
