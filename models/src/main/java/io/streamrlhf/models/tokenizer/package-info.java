/**
 * Tokenizers: the {@link io.streamrlhf.models.tokenizer.Tokenizer} contract, a word-level tokenizer
 * over a fixed vocabulary (the synthetic world's), and a Hugging Face {@code tokenizer.json}
 * tokenizer loaded from a local file through DJL's tokenizers library.
 */
package io.streamrlhf.models.tokenizer;
