package io.streamrlhf.learner.checkpoint;

import io.streamrlhf.models.checkpoint.CheckpointException;

/**
 * A learner tried to write a checkpoint after a newer leader (a higher leader epoch) had written one: it was fenced
 * and must stop without writing or publishing anything more.
 */
public final class CheckpointFencedException extends CheckpointException {

    /** With a message naming the version and both epochs. */
    public CheckpointFencedException(String message) {
        super(message);
    }
}
