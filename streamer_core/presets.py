"""Named settings: `paper` reproduces the published run, `live` suits a desktop demo."""

from __future__ import annotations

from .model import StreamerModelArguments
from .optimizer import StreamerOptimizerArguments

PRESETS = ("paper", "live")


def preset_arguments(name: str) -> tuple[StreamerModelArguments, StreamerOptimizerArguments]:
    """Fresh argument objects for a preset (safe to modify)."""
    if name == "paper":
        # EPIC-KITCHENS run of the reference implementation.
        model = StreamerModelArguments(
            feature_dim=1024, snippet_size=0.5, max_layers=3, evolve_every=10000,
            buffer_size=20, force_fixed_buffer=True, demarcation_mode="average",
            window_size=50, modifier=1.0, modifier_type="multiply",
            distance_mode="similarity", force_base_dist=False, lr=1e-4)
        return model, StreamerOptimizerArguments(alpha=3, max_layers=3, optimize_every=100)
    if name == "live":
        # Layers within the first minutes of a session: layer 1 after 3 s, before layer 0
        # can mark its first boundary (min_window steps; a scene change before layer 1
        # existed was lost to it, session fifty-one), layer 2 at layer 1's 7th input, that
        # is layer 0's seventh boundary (changes of video above cuts).
        # A 256-d embedding quarters the encoder's largest matrix
        # (65536 x D) so that a laptop CPU keeps up with 2 inputs/s; 10 buffered inputs
        # (5 s) halve the attention cost.
        # Learning all session long: the weights change every 50 layer-0 losses (25 s of
        # input) whatever the number of layers (optimize_clock "base"; the spec's "top"
        # counts the top layer's few inputs, and a session stopped learning after its
        # first minutes); every layer keeps its current event across an update (layer 0
        # is not blind for the second after it: a cut was missed there).
        # Layer 0 marks events inside a shot (docs/quality.md has the numbers): `change`
        # on its prediction error taken per channel of its own encoder's features pooled
        # over the picture (signal_space "features": what is in view, not where), a step
        # 2 robust deviations above the usual step of the last 40 s and, while the
        # picture is restless, 3 times the median of the last 4 steps (restless_ratio: a
        # shaking or panning camera is no event), at most one per 2 s, after 5 steps of
        # history. Also when the error at the picture's left and right edges changed 2.5
        # robust deviations more than usual beyond the rest (side_z_threshold: someone
        # entering or leaving a still view, see side_watch; from their 20th step on,
        # before that when they changed 6 times as much as the rest, SIDE_ALONE),
        # while the picture as a whole changed less than 0.05 (SIDE_VIEW_MOVED in
        # layer.py: a hand-held camera that turns changes its sides most; session
        # twenty-eight).
        # A boundary where most of the picture changed, or 0.3 of it all over the picture,
        # though less than at a new scene (a cut within a scene, or a swaying or hand-held
        # camera), stands only once the next step is 1.4 times smaller: the picture settled
        # (settle_ratio; it is then marked there), and only if its step jumped: 1.5 times
        # the larger of the two before it (STEP_JUMPS in layer.py: a hand-held camera
        # getting under way after a pause makes the step grow; session twenty-seven).
        # A change as big as a new scene's that the pooled step missed (two close-ups of
        # one film cut together) is a cut too once the next step is twice smaller
        # (QUIET_CUT_SETTLE in layer.py); so is one whose step only the restless limit
        # held back (a cut out of a panning shot) once the picture's step, too, is 3 times
        # smaller (session twenty-six).
        # The first two blocks of layer 0's encoder, where that step is read, learn that
        # what is in view changes rarely and then by much, up to 5 times the usual step
        # (block_objective "sparse_change", round eighteen): learned from the prediction,
        # they drifted, and a session that had learned longer marked fewer events.
        # A new model's blocks start as they learned over the built-in synthetic scene
        # (first_blocks "learned", session twenty-two): drawn at random they are
        # restless, and a fresh model missed most events of its first minute. From there
        # they learn at a tenth of the rate drawn blocks need (block_lr, session
        # twenty-three): at 1e-3 a session's own learning cost a little against the same
        # model frozen; at 1e-4, on streams built after the choice, the third pass scored
        # at least the first on every run and above the frozen model on average.
        # A window already sparse enough moves them no further (block_hold_at_margin,
        # session forty-four): Adam's momentum carried them on where nothing was left to
        # learn, and a replayed stream lost boundaries on its later passes.
        # Upper layers escalate: a layer-0 boundary ends the layer-1 event when half the
        # picture's error or more changed (new_scene_share; 8 x 8 regions, each against
        # its usual step, this input and the last against one prediction, see
        # PictureChange) and, once layer 0's boundaries fall into two
        # classes of size at least 2 times apart, it is in the upper one: a new scene
        # or a cut, not something new in the same scene nor a shaking camera. Such a
        # change is a layer-0 boundary even within min_event_length (a cut seen over two
        # inputs), once. Layer 1 hears of it 1.5 s later and ends its event only if
        # the new picture stayed (SCENE_STAYS in pending_scene.py: a hand passing in front of the
        # camera changes as much again; session twenty-four), or at least what is in view
        # did (a cut to a panning shot; session twenty-five), and the old view did not
        # come back (BACK_RATIO: the hand gone again; session thirty-seven).
        # A change of most of the picture that happened from one source frame to the next,
        # between two frames that do not show one view, is a cut: a layer-0 boundary even
        # below the pooled limit or within min_event_length, not held back, and the end
        # of the layer-1 event whatever its size (frames_between, session thirty-nine: a
        # cut between two close-ups of one film steps no more from input to input than a
        # face moving in one). A change of under 0.7 of the picture (0.6 where the frames
        # between call it a cut), in part of it, that grew out of a picture already moving
        # (not 3 times the step before) is no new scene unless the frames show a clear cut
        # (an object popping in or out of a jittering view; GREW_OUT_SHARE,
        # CUT_GREW_OUT_SHARE, CLEAR_CUT_SHARE; sessions 48, 49, 52). A layer-1 boundary ends
        # the layer-2 event when how far what is in view moved at it was in the upper
        # class of layer 1's recent ones (escalation; layer 0's step until session
        # sixty-three, which left layer 2 silent where cuts and changes of video stepped
        # alike), the classes at least 2 times apart (escalation_ratio; at 2.5 layer 2
        # heard few changes of video on montages where layer 1's cuts and video changes
        # lay 1.5 to 2.5 times apart; session thirty-five).
        # Events are remembered (Event memory, similar) by what they show, read with
        # layer 0's first block as the model started (the shipped learned one: it finds
        # an event's object better than a drawn one, session thirty-seven), frozen so
        # that the session's learning does not move it: the layers' summaries of events
        # minutes apart are far apart whatever they show (docs/quality.md, "Retrieval").
        # A layer-0 event is what moved in it, an event above it the median of what most
        # of its pictures show (event_representation "motion"): on a still camera every
        # event shows the same view.
        model = StreamerModelArguments(
            feature_dim=256, snippet_size=0.5, max_layers=3, evolve_every=5,
            buffer_size=10, force_fixed_buffer=False, demarcation_mode="change",
            window_size=80, modifier=1.0, modifier_type="multiply",
            distance_mode="similarity", force_base_dist=False, lr=1e-4,
            z_threshold=2.0, min_event_length=4, min_window=5, signal_regions=8,
            signal_space="features", restless_ratio=3.0, side_z_threshold=2.5, settle_ratio=1.4,
            block_objective="sparse_change", block_lr=1e-4, block_hold_at_margin=True,
            first_blocks="learned",
            steady_light=True, steady_view=True, frames_between=True,
            upper_demarcation="escalate", escalation_ratio=2.0, new_scene_share=0.5,
            keep_events=True, event_representation="motion")
        return model, StreamerOptimizerArguments(alpha=3, max_layers=3, optimize_every=50,
                                                 optimize_clock="base")
    raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
