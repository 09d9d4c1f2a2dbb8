package io.streamrlhf.models.engine;

import ai.djl.pytorch.jni.JniUtils;

/**
 * A scope in which PyTorch records no autograd graph: {@code torch.no_grad()} for DJL.
 *
 * <p>PyTorch's grad mode is per thread and starts <em>on</em> in every new thread; DJL turns it off
 * only in the thread that loads the engine. Without this scope every forward pass on a worker,
 * stream or learner thread through parameters that take gradients records a graph nobody reads:
 * saved activations and backward nodes, allocated and freed again, on every call. Inference entry
 * points (sampling, reward scoring, the learner's no-gradient forwards and its optimiser step) run
 * inside one. A {@code GradientCollector} opened inside turns recording on for itself and back off
 * when it closes. The engine must be loaded (any model is).
 *
 * <pre>{@code
 * try (NoGrad ignored = NoGrad.enter()) {
 *     ... forward passes ...
 * }
 * }</pre>
 */
public final class NoGrad implements AutoCloseable {

    private final boolean previous;

    private NoGrad(boolean previous) {
        this.previous = previous;
    }

    /** Turns recording off on this thread until {@link #close()}, which restores what was there before. */
    public static NoGrad enter() {
        boolean previous = JniUtils.isGradMode();
        if (previous) {
            JniUtils.setGradMode(false);
        }
        return new NoGrad(previous);
    }

    /** Whether this thread records autograd graphs now. */
    public static boolean recording() {
        return JniUtils.isGradMode();
    }

    @Override
    public void close() {
        if (previous) {
            JniUtils.setGradMode(true);
        }
    }
}
