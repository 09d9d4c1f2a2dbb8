package io.streamrlhf.evaluator.rmb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.evaluator.RmbFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RmbReaderTest {

    @TempDir Path tmp;

    @Test
    void readsTheOriginalLayoutRecursivelyWithBothSets() {
        RmbDataset data = RmbReader.read(RmbFixture.originalLayout());

        assertThat(data.files()).hasSize(5);
        assertThat(data.items()).hasSize(13);
        assertThat(data.items(RmbSet.PAIRWISE)).extracting(RmbItem::uid)
                .containsExactlyInAnyOrder("p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8");
        assertThat(data.items(RmbSet.BEST_OF_N)).extracting(RmbItem::uid)
                .containsExactlyInAnyOrder("b1", "b2", "b3", "b4", "b5");
        RmbItem b3 = byUid(data, "b3");
        assertThat(b3.conversation()).extracting(RmbTurn::role)
                .containsExactly("user", "assistant", "assistant", "user", "assistant");
        assertThat(b3.preferred()).isEqualTo(new RmbResponse("m1", "Twelve chars"));
        assertThat(b3.others()).extracting(RmbResponse::answer).containsExactly("a", "bb", "ccc");
        assertThat(b3.goal()).isEqualTo(RmbGoal.HELPFULNESS);
        assertThat(byUid(data, "p7").preferred().answer()).isEqualTo("No \uD83D\uDE42\uD83D\uDE42");
        assertThat(byUid(data, "p6").goal()).isEqualTo(RmbGoal.HARMLESSNESS);
        assertThat(byUid(data, "p6").categoryPath()).isEqualTo("Pairwise_set/Harmlessness/S1");
        assertThat(byUid(data, "p4").conversation().get(0).language()).isEqualTo("English");
    }

    @Test
    void readsOneFileAndOurSampleLayoutTheSame() throws IOException {
        Path original = RmbFixture.originalLayout();
        List<RmbItem> single = RmbReader.readFile(original.resolve("BoN_set/Harmlessness/S1.json"));
        assertThat(single).extracting(RmbItem::uid).containsExactly("b4", "b5");

        // Our sample's layout: lower-case kebab-case folders, pairwise/ and bon/.
        copy(original.resolve("Pairwise_set/Helpfulness/Chat/Small Talk.json"), "pairwise/helpfulness/chat/small-talk.json");
        copy(original.resolve("Pairwise_set/Helpfulness/Code/Documentation.json"), "pairwise/helpfulness/code/documentation.json");
        copy(original.resolve("Pairwise_set/Harmlessness/S1.json"), "pairwise/harmlessness/s1.json");
        copy(original.resolve("BoN_set/Helpfulness/Chat/Small Talk.json"), "bon/helpfulness/chat/small-talk.json");
        copy(original.resolve("BoN_set/Harmlessness/S1.json"), "bon/harmlessness/s1.json");
        Files.writeString(tmp.resolve("README.md"), "not json, ignored");

        assertThat(RmbReader.read(tmp).items())
                .containsExactlyInAnyOrderElementsOf(RmbReader.read(original).items());
    }

    @Test
    void everyItemSurvivesTheEvaluationTopicsJsonRoundTrip() {
        for (RmbItem item : RmbReader.read(RmbFixture.originalLayout()).items()) {
            assertThat(RmbJson.parse(RmbJson.write(item), item.key())).isEqualTo(item);
        }
    }

    @Test
    void rendersMultiTurnConversationsWithRoles() {
        RmbItem p4 = byUid(RmbReader.read(RmbFixture.originalLayout()), "p4");
        assertThat(p4.promptText()).isEqualTo(
                "User: Can you give me a recipe?\n\nAssistant: Which dish?\n\nUser: Pancakes.");
        assertThat(p4.scoringInputs()).extracting(i -> i.id() + "=" + i.responseText())
                .containsExactly("pairwise/p4#0=Sure, here it is.", "pairwise/p4#1=ok");
    }

    @Test
    void malformedRecordsAreNamedByFileRecordAndField() throws IOException {
        Path missingAnswer = tmp.resolve("a.json");
        Files.writeString(missingAnswer, "[{\"pair_uid\":\"1\",\"conversation_input\":[],"
                + "\"chosen\":{\"llm_name\":\"x\"},\"reject\":{\"answer\":\"r\"},\"category_path\":\"P/Helpfulness\"}]");
        assertThatThrownBy(() -> RmbReader.read(missingAnswer)).isInstanceOf(RmbFormatException.class)
                .hasMessageContaining("a.json record 0 field chosen").hasMessageContaining("answer is missing");

        Path noUid = tmp.resolve("b.json");
        Files.writeString(noUid, "[{\"conversation_input\":[],\"category_path\":\"x\"}]");
        assertThatThrownBy(() -> RmbReader.read(noUid)).hasMessageContaining("b.json record 0")
                .hasMessageContaining("neither pair_uid").hasMessageContaining("category_path");

        Path noLosers = tmp.resolve("c.json");
        Files.writeString(noLosers, "{\"bon_uid\":\"9\",\"conversation_input\":[],\"bon_best\":{\"answer\":\"b\"},"
                + "\"loser_list\":[],\"category_path\":\"BoN_set/Harmlessness/S1\"}");
        assertThatThrownBy(() -> RmbReader.read(noLosers)).hasMessageContaining("c.json record 0: loser_list");

        Path broken = tmp.resolve("d.json");
        Files.writeString(broken, "[{\"pair_uid\": ");
        assertThatThrownBy(() -> RmbReader.read(broken)).hasMessageContaining("d.json: not valid JSON");

        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertThatThrownBy(() -> RmbReader.read(empty)).hasMessageContaining("holds no *.json file");
        assertThatThrownBy(() -> RmbReader.read(tmp.resolve("nope"))).hasMessageContaining("does not exist");
    }

    @Test
    void goalsComeFromTheCategoryPath() {
        assertThat(RmbGoal.of("Pairwise_set/Helpfulness/Chat/Casual Conversation")).isEqualTo(RmbGoal.HELPFULNESS);
        assertThat(RmbGoal.of("BoN_set/Harmlessness/S6")).isEqualTo(RmbGoal.HARMLESSNESS);
        assertThat(RmbGoal.of("topic-word")).isEqualTo(RmbGoal.UNSPECIFIED);
        assertThat(RmbGoal.of(null)).isEqualTo(RmbGoal.UNSPECIFIED);
    }

    private void copy(Path from, String to) throws IOException {
        Path target = tmp.resolve(to);
        Files.createDirectories(target.getParent());
        Files.copy(from, target);
    }

    private static RmbItem byUid(RmbDataset data, String uid) {
        return data.items().stream().filter(i -> i.uid().equals(uid)).findFirst().orElseThrow();
    }
}
