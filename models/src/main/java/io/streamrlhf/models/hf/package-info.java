/**
 * Hugging Face causal-LM folders: {@code config.json} read into one config record per architecture
 * ({@link io.streamrlhf.models.hf.HfModelConfig}), weights from safetensors ({@code hf.safetensors}), the
 * architectures as DJL blocks whose parameters carry the checkpoint's tensor names ({@code hf.gpt2},
 * {@code hf.llama}), loading a folder into a runnable model ({@link io.streamrlhf.models.hf.HfCausalLm}; a
 * sequence-classification reward folder into {@link io.streamrlhf.models.hf.HfRewardModel}; a reward model to train
 * from a reward or causal-LM folder, saved back as a reward folder, into
 * {@link io.streamrlhf.models.hf.HfTrainableRewardModel}, fed the ids {@link io.streamrlhf.models.hf.RewardInputs}
 * renders for scoring and training alike), a folder as a trainable PPO policy with a value head
 * ({@link io.streamrlhf.models.hf.HfPolicy}) sampled on tensors ({@link io.streamrlhf.models.hf.HfSampler}), a
 * reward folder as a separate critic ({@link io.streamrlhf.models.hf.HfValueModel}), a policy checkpoint written
 * back as a folder ({@link io.streamrlhf.models.hf.HfExport}) and tiny random folders for tests
 * ({@link io.streamrlhf.models.hf.TinyHfModels}). Anything a folder asks for that is not implemented is refused
 * with an {@link io.streamrlhf.models.hf.HfFormatException} naming the file and the setting or tensor, never run
 * approximately. Tokenizers and chat templates live in {@code hf.tokenizer}.
 */
package io.streamrlhf.models.hf;
