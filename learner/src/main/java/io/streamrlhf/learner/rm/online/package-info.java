/**
 * The online reward-model trainer ({@code rlhf train-rm --online}, settings in
 * {@link io.streamrlhf.learner.rm.online.OnlineRmConfig}): it consumes {@code preferences}, fine-tunes
 * the ensemble in rounds on the new pairs plus a replay sample of older ones, checkpoints each version
 * with the offsets it trained up to, publishes it on {@code rm.versions} once per version, and writes
 * the measured strengths back to {@code preferences} under its origin header (offline training from
 * the topic writes back the same way and skips those records when it reads). With
 * {@code rm.state.topic.enabled} each version also carries the trainer's checkpoint on Kafka, from which a trainer
 * on a fresh machine resumes.
 */
package io.streamrlhf.learner.rm.online;
