package io.streamrlhf.evaluator.metrics;

/**
 * A share of items judged right.
 *
 * @param correct items judged right
 * @param n       items judged
 */
public record Accuracy(int correct, int n) {

    /** Checks {@code 0 <= correct <= n}. */
    public Accuracy {
        if (n < 0 || correct < 0 || correct > n) {
            throw new IllegalArgumentException("accuracy needs 0 <= correct <= n, got " + correct + "/" + n);
        }
    }

    /** {@code correct / n}, or NaN when no item was judged. */
    public double accuracy() {
        return n == 0 ? Double.NaN : (double) correct / n;
    }

    /** This plus one more item. */
    public Accuracy plus(boolean right) {
        return new Accuracy(correct + (right ? 1 : 0), n + 1);
    }
}
