/**
 * Hugging Face tokenizers and chat templates, read from a model folder: {@code tokenizer.json} through DJL's
 * tokenizers binding ({@link io.streamrlhf.models.hf.tokenizer.HfTokenizer}), the special tokens and
 * {@code chat_template} of {@code tokenizer_config.json} and the end-of-sequence ids of
 * {@code generation_config.json} ({@link io.streamrlhf.models.hf.tokenizer.HfTokenizerConfig}), and conversations
 * rendered to the text a model was trained on ({@link io.streamrlhf.models.hf.tokenizer.ChatTemplate}, through
 * Jinjava). Everything is read from local files; nothing here touches the network.
 */
package io.streamrlhf.models.hf.tokenizer;
