package io.streamrlhf.learner.rm;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.reward.ResidualDropout;
import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.models.reward.RewardOutput;
import io.streamrlhf.models.training.Gradients;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Trains one reward model on preference pairs with the chosen {@link RmMethod}. Keeps its AdamW state
 * between calls of {@link #train}, so the online trainer fine-tunes with the same optimiser.
 *
 * <p>One step, top to bottom: the batch's chosen and rejected sequences go through the model together
 * (2B rows); {@code Δ = r_c − r_r}; the preference loss is {@link RmLosses#preferenceLoss} with the
 * pairs' margins and the method's α; with the contrastive term on, the same 2B rows go through the
 * model twice more with its residual dropout on (independent masks), and λ·{@link RmLosses#simCse}
 * of the two views' pooled representations is added; the gradient is clipped to a
 * global norm and AdamW steps. With MetaRM on, every {@code metaEvery} steps the step is a meta step
 * instead ({@link #metaStep}).
 *
 * <p>Uses the JVM's one DJL gradient collector: train one model at a time.
 */
public final class RewardModelTrainer {

    /** Prompts per MetaRM batch. */
    static final int META_PROMPTS = 8;

    private final RewardModel model;
    private final RmTrainingConfig config;
    private final RmMethod method;
    private final SplittableRandom random;
    private final Optimizer optimizer;
    private long steps;

    /**
     * A trainer for {@code model}.
     *
     * @param seed seeds the data order and, with the contrastive term on, PyTorch's generator that draws the
     *             dropout masks
     * @throws IllegalArgumentException when the method has a contrastive term and the model has no residual dropout
     *                                  to make the views with ({@link ResidualDropout})
     */
    public RewardModelTrainer(RewardModel model, RmTrainingConfig config, RmMethod method, long seed) {
        this.model = model;
        this.config = config;
        this.method = method;
        this.random = new SplittableRandom(seed ^ 0x52_4d_74L);
        if (method.contrastive() && !(model instanceof ResidualDropout)) {
            throw new IllegalArgumentException("RewardModelTrainer: method '" + method.name() + "' has a contrastive "
                    + "term, whose dropout views need a reward model with residual dropout (the transformer or a "
                    + "Hugging Face one); got a " + model.block().getClass().getSimpleName() + " ("
                    + model.architecture() + ")");
        }
        this.optimizer = Optimizer.adamW()
                .optLearningRateTracker(Tracker.fixed((float) config.learningRate()))
                .optWeightDecays((float) config.weightDecay())
                .build();
    }

    /** The model being trained. */
    public RewardModel model() {
        return model;
    }

    /** The method it is trained with. */
    public RmMethod method() {
        return method;
    }

    /** Optimiser steps so far. */
    public long steps() {
        return steps;
    }

    /** What one call of {@link #train} did. */
    public record Report(long steps, int metaSteps, double meanLoss, double lastEpochLoss, double seconds) {
    }

    /**
     * {@code config.epochs()} shuffled passes over {@code pairs}.
     *
     * @param pairs    training pairs (labels already flipped and margins set as the method wants)
     * @param meta     the policy's current responses for MetaRM; empty or ignored when MetaRM is off
     * @param progress where progress goes
     * @param task     name shown by the progress
     */
    public Report train(List<TrainingPair> pairs, List<PromptGroup> meta, RmProgress progress, String task) {
        if (pairs.isEmpty()) {
            throw new IllegalArgumentException("RewardModelTrainer: no training pairs");
        }
        model.freeze(false);
        if (method.contrastive()) {
            // PyTorch draws the dropout masks from its global generator: seed it from ours so a run is repeatable.
            ModelRuntime.seed(random.nextLong());
        }
        List<PromptGroup> metaGroups = method.meta() ? usableGroups(meta) : List.of();
        int perEpoch = (pairs.size() + config.batchSize() - 1) / config.batchSize();
        long total = (long) perEpoch * config.epochs();
        long start = System.nanoTime();
        double sum = 0;
        double epochSum = 0;
        int metaSteps = 0;
        List<Integer> order = new ArrayList<>(pairs.size());
        for (int i = 0; i < pairs.size(); i++) {
            order.add(i);
        }
        progress.begin(task, total);
        try {
            for (int epoch = 0; epoch < config.epochs(); epoch++) {
                shuffle(order);
                epochSum = 0;
                for (int b = 0; b < perEpoch; b++) {
                    List<TrainingPair> batch = new ArrayList<>(config.batchSize());
                    for (int i = b * config.batchSize(); i < Math.min(pairs.size(), (b + 1) * config.batchSize()); i++) {
                        batch.add(pairs.get(order.get(i)));
                    }
                    double loss;
                    if (!metaGroups.isEmpty() && (steps + 1) % method.metaEvery() == 0) {
                        loss = metaStep(batch, sampleGroups(metaGroups));
                        metaSteps++;
                    } else {
                        loss = step(batch);
                    }
                    steps++;
                    sum += loss;
                    epochSum += loss;
                    progress.step(loss);
                }
            }
        } finally {
            progress.end();
        }
        return new Report(total, metaSteps, sum / total, epochSum / perEpoch, (System.nanoTime() - start) / 1e9);
    }

    /** One ordinary step on a batch; returns its loss. */
    double step(List<TrainingPair> batch) {
        try (NDManager step = model.manager().newSubManager()) {
            float loss;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray l = loss(step, batch);
                gc.backward(l);
                loss = l.getFloat();
            }
            Gradients.clipGlobalNorm(model.block(), step, config.maxGradNorm());
            Gradients.update(model.block(), optimizer, step);
            return loss;
        }
    }

    /**
     * MetaRM (Part II §4.2), first-order: (1) on K prompts of the policy's current responses, one
     * gradient-ascent step θ' = θ + η·∇J(θ)/‖∇J(θ)‖ on the difference objective J ({@link RmLosses#metaDifference}),
     * which pulls the model towards telling those responses apart; (2) the preference loss of the
     * batch at θ' and its gradient; (3) AdamW applies that gradient to θ'. The paper differentiates the
     * loss at θ' with respect to θ (second order); DJL exposes no higher-order gradients, and with the
     * first-order gradient a step taken from θ would keep J's influence only through the loss's
     * curvature, so, as first-order meta-learning (Reptile) does, the step is taken from θ'.
     */
    double metaStep(List<TrainingPair> batch, List<PromptGroup> groups) {
        try (NDManager step = model.manager().newSubManager()) {
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray j = metaObjective(step, groups);
                gc.backward(j);
            }
            List<NDArray> weights = new ArrayList<>();
            List<NDArray> grads = new ArrayList<>();
            double squares = 0;
            for (Pair<String, Parameter> p : model.block().getParameters()) {
                if (!p.getValue().requiresGradient()) {
                    continue;
                }
                NDArray w = p.getValue().getArray();
                NDArray g = gradientOrNull(w, step);
                if (g != null) {
                    weights.add(w);
                    grads.add(g);
                    squares += g.square().sum().getFloat();
                }
            }
            // A step of length η along ∇J: the objective's gradient scale varies by orders of magnitude
            // between models and distributions, and a raw step of η·∇J either does nothing or wrecks the model.
            double scale = method.metaStepSize() / (Math.sqrt(squares) + 1e-12);
            for (int k = 0; k < weights.size(); k++) {
                float[] theta = weights.get(k).toFloatArray();
                float[] grad = grads.get(k).toFloatArray();
                for (int i = 0; i < theta.length; i++) {
                    theta[i] += (float) (scale * grad[i]);  // ascent: J is maximised
                }
                // Through a Java buffer, outside autograd: a leaf that requires grad may not change in a recorded op.
                weights.get(k).set(FloatBuffer.wrap(theta));
                grads.get(k).subi(grads.get(k));  // the preference gradient below must start from zero
            }
        }
        return step(batch);
    }

    /** J on K groups of G responses (the smallest group size among them). */
    NDArray metaObjective(NDManager step, List<PromptGroup> groups) {
        int g = groups.stream().mapToInt(x -> x.responses().size()).min().orElseThrow();
        List<int[]> prompts = new ArrayList<>();
        List<int[]> responses = new ArrayList<>();
        for (PromptGroup group : groups) {
            for (int i = 0; i < g; i++) {
                prompts.add(group.prompt());
                responses.add(group.responses().get(i));
            }
        }
        SequenceBatch seq = SequenceBatch.pack(step, prompts, responses, model.config().contextLength());
        NDArray scores = model.forward(seq.tokens(), seq.mask(), true).scores();  // (K·G)
        return RmLosses.metaDifference(scores.reshape(groups.size(), g));  // ()
    }

    /** The batch's total loss (preference loss, plus λ·contrastive when on), inside a gradient collector. */
    NDArray loss(NDManager step, List<TrainingPair> batch) {
        int b = batch.size();
        List<int[]> prompts = new ArrayList<>(2 * b);
        List<int[]> responses = new ArrayList<>(2 * b);
        float[] margins = new float[b];
        for (int i = 0; i < b; i++) {
            prompts.add(batch.get(i).pair().conversation());
            responses.add(batch.get(i).pair().chosen());
            margins[i] = (float) batch.get(i).margin();
        }
        for (TrainingPair p : batch) {
            prompts.add(p.pair().conversation());
            responses.add(p.pair().rejected());
        }
        SequenceBatch seq = SequenceBatch.pack(step, prompts, responses, model.config().contextLength());
        RewardOutput out = model.forward(seq.tokens(), seq.mask(), true);
        NDArray scores = out.scores();  // (2B)
        NDArray diff = scores.get("0:" + b).sub(scores.get(b + ":"));  // (B)
        NDArray margin = method.adaptiveMargin() ? step.create(margins) : null;  // (B)
        NDArray loss = RmLosses.preferenceLoss(diff, margin, method.labelSmoothing()).mean();  // ()
        if (method.contrastive()) {
            NDArray[] views = dropoutViews(seq);  // 2 x (2B, D)
            loss = loss.add(RmLosses.simCse(views[0], views[1], method.contrastiveTemperature())
                    .mul((float) method.contrastiveWeight()));
        }
        return loss;
    }

    /**
     * SimCSE's two views (Gao et al. 2021, as Part II §4.1 uses it): the same sequences through the
     * model twice with its residual dropout ({@link ResidualDropout}) at the method's rate, so each pass draws its
     * own masks in every layer; the pooled representations are the views. The preference loss above reads
     * a pass without dropout, so the term is purely additive and {@code bt} stays exactly Bradley–Terry.
     */
    private NDArray[] dropoutViews(SequenceBatch seq) {
        ResidualDropout dropout = (ResidualDropout) model;
        float before = dropout.residualDropout();
        dropout.setResidualDropout((float) method.dropout());
        try {
            NDArray view1 = model.forward(seq.tokens(), seq.mask(), true).pooled();  // (2B, D)
            NDArray view2 = model.forward(seq.tokens(), seq.mask(), true).pooled();  // (2B, D)
            return new NDArray[] {view1, view2};
        } finally {
            dropout.setResidualDropout(before);  // strengths, evaluation and publication see the plain model
        }
    }

    private static NDArray gradientOrNull(NDArray w, NDManager step) {
        if (!w.hasGradient()) {
            return null;
        }
        try {
            NDArray g = w.getGradient();
            g.attach(step);
            return g;
        } catch (IllegalStateException e) {
            return null;  // took no part in the objective
        }
    }

    private List<PromptGroup> usableGroups(List<PromptGroup> meta) {
        return meta == null ? List.of() : meta.stream().filter(g -> g.responses().size() >= 2).toList();
    }

    private List<PromptGroup> sampleGroups(List<PromptGroup> groups) {
        List<PromptGroup> out = new ArrayList<>(META_PROMPTS);
        for (int i = 0; i < META_PROMPTS; i++) {
            out.add(groups.get(random.nextInt(groups.size())));
        }
        return out;
    }

    private void shuffle(List<Integer> order) {
        for (int i = order.size() - 1; i > 0; i--) {
            Collections.swap(order, i, random.nextInt(i + 1));
        }
    }
}
