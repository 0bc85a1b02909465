"""autograd_lite.nn: structure, names, init, fused vs elementary neurons, save/load."""

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd_lite import Value
from autograd_lite.check import numerical_grad
from autograd_lite.nn import MLP, Layer, LogisticRegression, Module, Neuron


def test_named_parameters_dotted_names_and_order():
    net = MLP(3, [4, 2], seed=0)
    names = [n for n, _ in net.named_parameters()]
    assert len(names) == 4 * 4 + 2 * 5
    assert names[:5] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.w.2",
                         "layers.0.neurons.0.b", "layers.0.neurons.1.w.0"]
    assert names[-1] == "layers.1.neurons.1.b"
    assert "layers.0.neurons.3.w.1" in names
    assert [p for _, p in net.named_parameters()] == net.parameters()
    assert all(p.is_leaf() for p in net.parameters())
    assert len({id(p) for p in net.parameters()}) == len(names)
    # labels name the parameter the course's way, every one different: layer, neuron, w1 … (from 1), b
    for name, p in net.named_parameters():
        parts = name.split(".")  # layers.L.neurons.N.w.K or layers.L.neurons.N.b
        head = f"layer{int(parts[1]) + 1}.neuron{int(parts[3]) + 1}."
        assert p.label == head + ("b" if parts[-1] == "b" else f"w{int(parts[-1]) + 1}")
    assert len({p.label for p in net.parameters()}) == len(names)


def test_named_modules():
    net = MLP(2, [3, 1], seed=0)
    mods = net.named_modules()
    assert mods[0] == ("", net)
    paths = [p for p, _ in mods]
    assert paths == ["", "layers.0", "layers.0.neurons.0", "layers.0.neurons.1", "layers.0.neurons.2",
                     "layers.1", "layers.1.neurons.0"]
    assert isinstance(dict(mods)["layers.0.neurons.2"], Neuron)
    assert isinstance(dict(mods)["layers.1"], Layer)


def test_logistic_regression_is_one_sigmoid_neuron():
    model = LogisticRegression(2)
    model.w[0].data, model.w[1].data, model.b.data = 0.5, -1.0, 0.25
    a = model([2.0, 3.0])
    z = 0.5 * 2 - 1.0 * 3 + 0.25
    assert a.data == pytest.approx(1 / (1 + math.exp(-z)), abs=1e-15)
    assert [n for n, _ in model.named_parameters()] == ["w.0", "w.1", "b"]
    a.backward()
    # C6 without the loss: da/dw1 = a(1 − a)·x1
    assert model.w[0].grad == pytest.approx(a.data * (1 - a.data) * 2.0, rel=1e-14)
    assert model.b.grad == pytest.approx(a.data * (1 - a.data), rel=1e-14)


@pytest.mark.parametrize("x", [[1.0, 2.0], (1, 2), np.array([1.0, 2.0]), [Value(1.0), 2]])
def test_call_accepts_lists_tuples_arrays_values(x):
    net = MLP(2, [3, 1], seed=1)
    out = net(x)
    assert isinstance(out, Value)
    assert out.data == net([1.0, 2.0]).data
    outs = MLP(2, [3, 2], seed=1)(x)
    assert isinstance(outs, list) and len(outs) == 2 and all(isinstance(o, Value) for o in outs)


def test_inputs_that_are_values_get_gradients():
    net = MLP(2, [3, 1], activation="tanh", seed=2)
    xs = [Value(0.3), Value(-0.7)]
    net(xs).backward()
    f = lambda a, b: net([a, b]).data
    num = numerical_grad(f, [0.3, -0.7])
    assert [x.grad for x in xs] == pytest.approx(num, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("bad,n", [([1.0], 1), ([1.0, 2.0, 3.0], 3), (np.zeros(4), 4)])
def test_wrong_input_length_names_sizes(bad, n):
    with pytest.raises(ValueError, match=f"expected 2 inputs, got {n}"):
        MLP(2, [3, 1], seed=0)(bad)


def test_bad_inputs():
    net = MLP(2, [1], seed=0)
    with pytest.raises(ValueError, match="shape"):
        net(np.zeros((3, 2)))
    with pytest.raises(TypeError, match="input 1"):
        net([1.0, "a"])
    with pytest.raises(TypeError):
        net({"a": 1})
    with pytest.raises(ValueError, match="activation"):
        Neuron(2, activation="softplus")
    with pytest.raises(ValueError, match="nouts"):
        MLP(2, [])
    with pytest.raises(ValueError, match="at least 1"):
        Layer(0, 2)
    with pytest.raises(ValueError, match="init"):
        Neuron(2, init="ones")


def test_init_scales_and_seed():
    he = np.array([p.data for p in Layer(200, 50, activation="relu", seed=0).parameters()
                   if p.label != "b"])
    assert he.std() == pytest.approx(math.sqrt(2 / 200), rel=0.05)  # He: N(0, 2/fan_in)
    gl = np.array([p.data for p in Layer(200, 50, activation="tanh", seed=0).parameters() if p.label != "b"])
    assert gl.std() == pytest.approx(math.sqrt(2 / 250), rel=0.05)  # Glorot: N(0, 2/(fan_in+fan_out))
    assert all(p.data == 0 for p in Layer(5, 5, seed=0).parameters() if p.label == "b")
    a = [p.data for p in MLP(3, [4, 1], seed=7).parameters()]
    b = [p.data for p in MLP(3, [4, 1], seed=7).parameters()]
    c = [p.data for p in MLP(3, [4, 1], seed=8).parameters()]
    assert a == b and a != c
    assert all(p.data == 0.0 for p in MLP(3, [4, 1], init="zeros").parameters())
    assert all(p.data == 0.5 for p in MLP(3, [4, 1], init=0.5).parameters())
    assert all(p.data == 0.0 for p in LogisticRegression(3).parameters())  # convex: zeros is the default


@given(st.sampled_from(["relu", "tanh", "sigmoid", "linear"]),
       st.lists(st.floats(-3, 3), min_size=3, max_size=3), st.integers(0, 1000))
def test_fused_and_elementary_neurons_agree(activation, x, seed):
    fused = MLP(3, [4, 2], activation=activation, output_activation=activation, seed=seed, fused=True)
    plain = MLP(3, [4, 2], activation=activation, output_activation=activation, seed=seed, fused=False)
    outs_f, outs_p = fused(x), plain(x)
    for a, b in zip(outs_f, outs_p):
        assert a.data == pytest.approx(b.data, rel=1e-15, abs=1e-15)
    (outs_f[0] * outs_f[1]).backward()
    (outs_p[0] * outs_p[1]).backward()
    for (n, p), (_, q) in zip(fused.named_parameters(), plain.named_parameters()):
        assert p.grad == pytest.approx(q.grad, rel=1e-13, abs=1e-15), n


def test_elementary_neuron_builds_mul_and_add_nodes():
    from autograd_lite.engine import topological_order

    n = Neuron(3, activation="sigmoid", seed=0, fused=False)
    ops = {node.op.name for node in topological_order(n([1.0, 2.0, 3.0])) if node.op}
    assert ops == {"mul", "add", "sigmoid"}
    n2 = Neuron(3, activation="sigmoid", seed=0)
    ops2 = [node.op.name for node in topological_order(n2([1.0, 2.0, 3.0])) if node.op]
    assert ops2 == ["sigmoid", "linear"]


def test_zero_grad():
    net = MLP(2, [3, 1], seed=0)
    net([1.0, 1.0]).backward()
    assert any(p.grad != 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad == 0 for p in net.parameters())


def test_save_load_round_trip_exact(tmp_path):
    net = MLP(3, [5, 2], activation="tanh", output_activation="sigmoid", seed=3, fused=False)
    for p in net.parameters():
        p.data = p.data + 1e-17 * math.pi  # awkward floats
    net.parameters()[0].data = 0.1 + 0.2
    path = tmp_path / "m.json"
    net.save(path)
    doc = json.loads(path.read_text())
    assert doc["class"] == "MLP" and doc["config"]["nouts"] == [5, 2]
    back = MLP.load(path)
    assert back.config() == net.config()
    assert [p.data for p in back.parameters()] == [p.data for p in net.parameters()]  # bit-exact
    x = [0.1, -0.4, 2.0]
    assert [o.data for o in back(x)] == [o.data for o in net(x)]
    lr = LogisticRegression(4, init="random", seed=1)
    lr.save(tmp_path / "lr.json")
    loaded = Module.load(tmp_path / "lr.json")
    assert isinstance(loaded, LogisticRegression) and loaded.state_dict() == lr.state_dict()


def test_load_errors_leave_model_unchanged(tmp_path):
    net = MLP(2, [3, 1], seed=0)
    before = net.state_dict()
    bad = dict(before)
    del bad["layers.1.neurons.0.b"]
    with pytest.raises(ValueError, match="missing 1 .*layers.1.neurons.0.b"):
        net.load_state_dict(bad)
    bad = dict(before, extra=1.0)
    with pytest.raises(ValueError, match="unexpected 1 .*extra"):
        net.load_state_dict(bad)
    bad = dict(before)
    bad["layers.0.neurons.0.w.0"] = 99.0
    bad["layers.1.neurons.0.b"] = "x"
    with pytest.raises(ValueError, match="must be a number"):
        net.load_state_dict(bad)
    assert net.state_dict() == before

    p = tmp_path / "broken.json"
    p.write_text('{"format": "autograd_lite.model", "version": 1, "class": "MLP", "config": ')
    with pytest.raises(ValueError, match="bad JSON"):
        MLP.load(p)
    LogisticRegression(2).save(tmp_path / "lr.json")
    with pytest.raises(ValueError, match="holds a LogisticRegression, not a MLP"):
        MLP.load(tmp_path / "lr.json")
    MLP(2, [4, 1]).save(tmp_path / "m4.json")
    with pytest.raises(ValueError, match="does not match"):
        net.load_weights(tmp_path / "m4.json")
    assert net.state_dict() == before
    doc = json.loads((tmp_path / "lr.json").read_text())
    doc["parameters"]["w.1"] = [1]
    (tmp_path / "lr2.json").write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="w.1"):
        LogisticRegression.load(tmp_path / "lr2.json")
    with pytest.raises(FileNotFoundError):
        MLP.load(tmp_path / "nope.json")
    (tmp_path / "other.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="not an autograd_lite model file"):
        MLP.load(tmp_path / "other.json")


def test_repr():
    assert repr(MLP(2, [3, 1])) == ("MLP(nin=2, nouts=[3, 1], activation='relu', output_activation='linear', "
                                    "fused=True)")


def test_labels_of_a_neuron_a_layer_and_an_mlp_follow_the_course():
    from autograd_lite import explain

    n = LogisticRegression(2)
    assert [p.label for p in n.parameters()] == ["w1", "w2", "b"]
    a = n([1.0, 2.0])
    assert a.label == "a" and a.parents[0].label == "z"
    layer = Layer(2, 2, seed=0)
    assert [p.label for p in layer.parameters()] == ["neuron1.w1", "neuron1.w2", "neuron1.b",
                                                      "neuron2.w1", "neuron2.w2", "neuron2.b"]
    assert [v.label for v in layer([1.0, 2.0])] == ["neuron1.a", "neuron2.a"]
    net = MLP(2, [2, 1], seed=0)
    out = net([1.0, 2.0])
    assert out.label == "layer2.neuron1.z"  # linear output: its z
    names = {r.name for r in explain(out).forward}
    assert {"layer1.neuron2.w1", "layer1.neuron2.a", "layer2.neuron1.b"} <= names
    # the ledger's names are the labels: no two parameters alike, no w0
    assert not any(name.endswith(("w0", "#2", "_2")) for name in names)
