package io.streamrlhf.evaluator.rmb;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.evaluator.RmbFixture;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The shared RMB sample parses completely: every file, every record, with the counts its README gives. */
class RmbSampleTest {

    @Test
    void theSharedSampleParsesCompletely() {
        Path sample = RmbFixture.sharedSample().orElse(null);
        Assumptions.assumeTrue(sample != null, RmbFixture::sampleMissing);

        Map<String, Integer> expected = new LinkedHashMap<>();
        expected.put("pairwise/helpfulness/chat/casual-conversation.json", 306);
        expected.put("pairwise/helpfulness/code/documentation.json", 65);
        expected.put("pairwise/helpfulness/reasoning/pattern-recognition.json", 52);
        expected.put("pairwise/harmlessness/s6.json", 317);
        expected.put("bon/helpfulness/chat/casual-conversation.json", 71);
        expected.put("bon/helpfulness/code/documentation.json", 15);
        expected.put("bon/helpfulness/reasoning/pattern-recognition.json", 14);
        expected.put("bon/harmlessness/s6.json", 83);
        for (Map.Entry<String, Integer> e : expected.entrySet()) {
            assertThat(RmbReader.readFile(sample.resolve(e.getKey()))).as(e.getKey()).hasSize(e.getValue());
        }

        RmbDataset all = RmbReader.read(sample);
        assertThat(all.files()).hasSize(8);
        assertThat(all.items(RmbSet.PAIRWISE)).hasSize(740);
        assertThat(all.items(RmbSet.BEST_OF_N)).hasSize(183);
        for (RmbItem item : all.items()) {
            String setFolder = item.set() == RmbSet.PAIRWISE ? "Pairwise_set/" : "BoN_set/";
            assertThat(item.categoryPath()).as(item.key()).startsWith(setFolder);
            assertThat(item.goal()).as(item.key()).isNotEqualTo(RmbGoal.UNSPECIFIED);
            assertThat(item.conversation()).as(item.key()).isNotEmpty();
            assertThat(RmbJson.parse(RmbJson.write(item), item.key())).isEqualTo(item);
        }
        assertThat(all.items()).filteredOn(i -> i.conversation().size() > 1).hasSizeGreaterThan(100);
        assertThat(all.items(RmbSet.BEST_OF_N)).allSatisfy(i -> assertThat(i.others()).hasSizeGreaterThanOrEqualTo(2));
    }
}
