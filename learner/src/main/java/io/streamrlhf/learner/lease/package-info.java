/**
 * One active learner per policy, standbys ready: the election on the {@code learner.lease} topic
 * ({@link io.streamrlhf.learner.lease.LearnerLease}) and the takeover records whose offsets are leader epochs
 * ({@link io.streamrlhf.learner.lease.Takeover}). Fencing itself is the publisher's transactional.id and the
 * checkpoint store's epoch check (docs/learner.md, "Standby learners").
 */
package io.streamrlhf.learner.lease;
