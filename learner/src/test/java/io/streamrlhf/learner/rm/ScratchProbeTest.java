package io.streamrlhf.learner.rm;

import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.SyntheticWorld;
import org.junit.jupiter.api.Test;

class ScratchProbeTest {
    @Test
    void probe() {
        ModelRuntime.init(2);
        int v = SyntheticWorld.standard().vocabulary().size();
        int d = Integer.getInteger("probe.d", 32);
        int layers = Integer.getInteger("probe.layers", 1);
        RmTrainingConfig c = new RmTrainingConfig(new TransformerConfig(v, 64, d, layers, 2), Integer.getInteger("probe.m", 4),
                Integer.getInteger("probe.epochs", 3), 32, Double.parseDouble(System.getProperty("probe.lr", "1e-3")), 0.01, 1.0, 7);
        var s = new MethodComparison.Settings(c, MethodComparison.methods(System.getProperty("probe.methods", "bt,flip+margin")),
                Integer.getInteger("probe.seeds", 1), Integer.getInteger("probe.pairs", 400), 400, 50, 4, 0.2);
        System.out.println("VOCAB " + v);
        System.out.println("RESULT " + MethodComparison.run(s, RmProgress.NONE).toJson());
    }
}
