/**
 * The learner as a Kafka service: {@link io.streamrlhf.learner.app.LearnerService} (consume
 * {@code scored} read_committed, batch, train, checkpoint, publish), its settings
 * ({@link io.streamrlhf.learner.app.LearnerConfig}), batch assembly with prompt groups and
 * checkpointable offsets ({@link io.streamrlhf.learner.app.ScoredBatcher}), idempotent
 * {@code PolicyVersion} publication and metrics to the log and the {@code metrics} topic.
 */
package io.streamrlhf.learner.app;
