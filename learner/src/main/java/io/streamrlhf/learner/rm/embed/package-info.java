/** Reward heads on a frozen pretrained encoder's embeddings, trained with Secrets of RLHF Part II's methods. */
package io.streamrlhf.learner.rm.embed;
