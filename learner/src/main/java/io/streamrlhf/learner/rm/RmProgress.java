package io.streamrlhf.learner.rm;

/**
 * Where training reports its progress: the CLI draws a progress bar from it, services log. Called from
 * the training thread only.
 */
public interface RmProgress {

    /** Reports nothing. */
    RmProgress NONE = new RmProgress() {
        @Override
        public void begin(String task, long steps) {
        }

        @Override
        public void step(double loss) {
        }

        @Override
        public void end() {
        }
    };

    /** A task of {@code steps} steps starts ({@code "rm-2 flip+margin"}). */
    void begin(String task, long steps);

    /** One step is done with this loss. */
    void step(double loss);

    /** The task is done. */
    void end();
}
