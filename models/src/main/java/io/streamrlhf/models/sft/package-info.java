/**
 * Supervised fine-tuning. On the synthetic world's corpus: the trainer (next-token cross-entropy on response
 * tokens, AdamW, seeded), held-out perplexity, the job behind {@code rlhf sft} that writes the SFT policy checkpoint,
 * and the adapter that lets a policy answer prompts for the offline preference set. On a user's JSONL corpus
 * ({@code {"prompt", "response"}}, {@code {"messages"}} or {@code {"text"}} lines, read strictly and encoded with a
 * Hugging Face model's tokenizer and chat template): the reader, the encoded corpus PPO-ptx also draws from, and the
 * job behind {@code rlhf sft --model DIR --data FILE}.
 */
package io.streamrlhf.models.sft;
