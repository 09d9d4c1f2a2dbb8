package io.streamrlhf.cli;

import io.streamrlhf.learner.rm.RmProgress;
import java.util.Locale;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Draws one progress bar per reward-model training task on stderr, with the running loss. */
final class RmProgressBars implements RmProgress {
    private ProgressBar bar;

    @Override
    public void begin(String task, long steps) {
        bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(steps).setStyle(ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(250).build();
    }

    @Override
    public void step(double loss) {
        bar.step();
        bar.setExtraMessage(String.format(Locale.ROOT, " loss %.3f", loss));
    }

    @Override
    public void end() {
        bar.close();
    }
}
