package io.streamrlhf.models.training;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.streamrlhf.models.policy.LogProbs;
import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.policy.PolicyOutput;

/** Test helper: next-token cross-entropy plus a small value loss, AdamW, grad clip, one sub-manager per step. */
public final class LmTrainer {

    private final PolicyModel policy;
    private final Optimizer optimizer;
    private final Engine engine;

    public LmTrainer(PolicyModel policy, float lr) {
        this.policy = policy;
        this.engine = policy.manager().getEngine();
        this.optimizer = Optimizer.adamW().optLearningRateTracker(Tracker.fixed(lr)).optWeightDecays(0.01f).build();
    }

    /** One update on {@code rows} (all the same length); returns the loss. */
    public float step(int[][] rows) {
        int b = rows.length;
        int t = rows[0].length;
        int[] flat = new int[b * t];
        for (int i = 0; i < b; i++) {
            System.arraycopy(rows[i], 0, flat, i * t, t);
        }
        try (NDManager step = policy.manager().newSubManager();
             GradientCollector gc = engine.newGradientCollector()) {
            NDArray tokens = step.create(flat, new Shape(b, t));
            PolicyOutput out = policy.forward(tokens, null, true);
            NDArray nll = LogProbs.ofSequence(out.logits(), tokens).mean().neg();
            NDArray loss = nll.add(out.values().square().mean().mul(0.1f));
            gc.backward(loss);
            Gradients.clipGlobalNorm(policy.block(), step, 1.0);
            Gradients.update(policy.block(), optimizer, step);
            float value = loss.getFloat();
            loss.attach(step);
            return value;
        }
    }
}
