"""The grading cases of lab1_embeddings (see :mod:`tests.cases`)."""

CASES = {
    "wrong": {
        "wrong_one_hot": ("one_hot_encode", "encoded[row, index[symbol]] = 1.0",
                          "encoded[row, index[symbol] - 1] = 1.0", ["test_one_hot_encode"]),
        "one_hot_list": ("one_hot_encode", "return encoded", "return encoded.tolist()",
                         ["test_one_hot_encode"]),
        "one_hot_key_error": ("one_hot_encode", "        if symbol not in index:\n"
                              "            raise ValueError(f\"{symbol!r} is not in the "
                              "vocabulary\")\n", "", ["test_one_hot_encode"]),
        "wrong_cosine": ("distances",
                         "return float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))",
                         "return float(x @ y)", ["test_cosine_similarity"]),
        "euclid_no_root": ("distances", "return float(np.sqrt(np.sum((x - y) ** 2)))",
                           "return float(np.sum((x - y) ** 2))", ["test_euclidean_distance"]),
        "euclid_lists": ("distances", '    x, y = np.asarray(x, dtype="float64"), '
                         'np.asarray(y, dtype="float64")\n    return float(np.sqrt(',
                         "    return float(np.sqrt(", ["test_euclidean_distance"]),
        "wrong_memory": ("memory_cost",
                         "input_bytes = batch_size * vocab_size * bytes_per_value",
                         "input_bytes = batch_size * vocab_size", ["test_memory_cost"]),
        "memory_lookup_multiplies": ("memory_cost", "multiplications = 0",
                                     "multiplications = batch_size * embedding_dim",
                                     ["test_memory_cost"]),
        "wrong_lookup": ("embedding_via_one_hot", "np.eye(W.shape[0], dtype=W.dtype)[ids]",
                         "np.eye(len(ids), dtype=W.dtype)[ids]",
                         ["test_embedding_via_one_hot"]),
        "lookup_transposed": ("embedding_via_one_hot", "return one_hot, one_hot @ W",
                              "return one_hot, W.T @ one_hot.T", ["test_embedding_via_one_hot"]),
        "one_hot_max_id": ("embedding_via_one_hot", "np.eye(W.shape[0], dtype=W.dtype)[ids]",
                           "np.eye(ids.max() + 1, dtype=W.dtype)[ids]",
                           ["test_embedding_via_one_hot"]),
        "lookup_only_vectors": ("embedding_via_one_hot", "return one_hot, one_hot @ W",
                                "return one_hot @ W", ["test_embedding_via_one_hot"]),
        "wrong_pair_loss": ("build_pair_model", 'loss="binary_crossentropy"', 'loss="mse"',
                            ["test_build_pair_model"]),
        "pair_unshared": ("build_pair_model", "[embedding(left), embedding(right)]",
                          "[embedding(left), keras.layers.Embedding(num_symbols, "
                          "embedding_dim)(right)]", ["test_build_pair_model"]),
        "pair_no_sigmoid": ("build_pair_model", "keras.Model([left, right], probability)",
                            "keras.Model([left, right], score)", ["test_build_pair_model"]),
        "pair_cosine": ("build_pair_model", "keras.layers.Dot(axes=1)",
                        "keras.layers.Dot(axes=1, normalize=True)", ["test_build_pair_model"]),
        "wrong_neighbours": ("nearest_neighbours",
                             "E = E / np.linalg.norm(E, axis=1, keepdims=True)", "E = E",
                             ["test_nearest_neighbours"]),
        "neighbours_global_norm": ("nearest_neighbours",
                                   "E = E / np.linalg.norm(E, axis=1, keepdims=True)",
                                   "E = E / np.linalg.norm(E)", ["test_nearest_neighbours"]),
        "neighbours_with_self": ("nearest_neighbours", "similarity[index] = -np.inf",
                                 "pass", ["test_nearest_neighbours"]),
        "neighbours_least_similar": ("nearest_neighbours", "np.argsort(-similarity, kind=",
                                     "np.argsort(similarity, kind=", ["test_nearest_neighbours"]),
        "pca_not_centred": ("pca_project", "centred = X - X.mean(axis=0)", "centred = X",
                            ["test_pca_project"]),
        "pca_wrong_axis": ("pca_project", "directions[:n_components].T",
                           "directions[:, :n_components]", ["test_pca_project"]),
        "pca_smallest_first": ("pca_project", "directions[:n_components].T",
                               "directions[::-1][:n_components].T", ["test_pca_project"]),
    },
    # Correct answers that differ from the solution: each must earn full marks.
    # (answer cell, old, new); old=None replaces the whole answer cell.
    "right": {
        "one_hot_list_index": [("one_hot_encode", None, '''\
def one_hot_encode(symbols, vocabulary):
    vocabulary = list(vocabulary)
    encoded = np.zeros((len(symbols), len(vocabulary)), dtype=np.float32)
    for i, symbol in enumerate(symbols):
        encoded[i, vocabulary.index(symbol)] = 1  # list.index raises ValueError if missing
    return encoded
''')],
        "one_hot_eye_rows": [("one_hot_encode", None, '''\
def one_hot_encode(symbols, vocabulary):
    unknown = set(symbols) - set(vocabulary)
    if unknown:
        raise ValueError(f"not in the vocabulary: {sorted(unknown)}")
    positions = [list(vocabulary).index(symbol) for symbol in symbols]
    return np.eye(len(vocabulary), dtype="float32")[positions]
''')],
        "one_hot_broadcast": [("one_hot_encode", None, '''\
def one_hot_encode(symbols, vocabulary):
    symbols = np.asarray(symbols, dtype=object).reshape(-1, 1)
    encoded = (symbols == np.asarray(vocabulary, dtype=object)).astype("float32")
    if not np.all(encoded.sum(axis=1) == 1):
        raise ValueError("a symbol is not in the vocabulary")
    return encoded.reshape(len(symbols), len(vocabulary))
''')],
        "distances_pure_python": [("distances", None, '''\
import math


def euclidean_distance(x, y):
    return math.dist(x, y)


def cosine_similarity(x, y):
    dot = sum(a * b for a, b in zip(x, y))
    return dot / (math.sqrt(sum(a * a for a in x)) * math.sqrt(sum(b * b for b in y)))
''')],
        "distances_numpy_scalars": [("distances", None, '''\
def euclidean_distance(x, y):
    return np.linalg.norm(np.subtract(x, y))


def cosine_similarity(x, y):
    return np.dot(x, y) / (np.linalg.norm(x) * np.linalg.norm(y))
''')],
        "batch_cost_numpy_ints": [("memory_cost", None, '''\
def batch_cost(batch_size, vocab_size, embedding_dim, one_hot, bytes_per_value=4):
    values_per_symbol = vocab_size if one_hot else 1
    input_bytes = np.prod([batch_size, values_per_symbol, bytes_per_value])
    multiplications = np.prod([batch_size, vocab_size, embedding_dim]) if one_hot else 0
    return input_bytes, multiplications
''')],
        "via_one_hot_encode": [("embedding_via_one_hot", None, '''\
def embedding_via_one_hot(ids, W):
    one_hot = one_hot_encode(list(ids), list(range(len(W))))
    return one_hot, np.dot(one_hot, W)
''')],
        "via_keras_ops": [("embedding_via_one_hot", None, '''\
def embedding_via_one_hot(ids, W):
    one_hot = keras.ops.one_hot(ids, W.shape[0], dtype=str(W.dtype))
    return one_hot, keras.ops.matmul(one_hot, W)
''')],
        # The lesson's conclusion, accepted: once the one-hot matrix is right, the lookup is
        # the same vectors (no test can tell them apart, which is what the exercise shows).
        "lookup_after_one_hot": [("embedding_via_one_hot", None, '''\
def embedding_via_one_hot(ids, W):
    ids = np.asarray(ids)
    one_hot = (ids[:, None] == np.arange(len(W))).astype(float)
    return one_hot, W[ids]
''')],
        "pair_multiply_sum": [("build_pair_model", None, '''\
def build_pair_model(num_symbols, embedding_dim):
    first = keras.Input(shape=(), dtype="int32")
    second = keras.Input(shape=(), dtype="int32")
    table = keras.layers.Embedding(num_symbols, embedding_dim, name="symbol_vectors")
    product = keras.layers.Multiply()([table(first), table(second)])
    output = keras.ops.sigmoid(keras.ops.sum(product, axis=-1))
    model = keras.Model(inputs=[first, second], outputs=output)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.02),
                  loss=keras.losses.BinaryCrossentropy(), metrics=["binary_accuracy"])
    return model
''')],
        "pair_dot_lambda": [("build_pair_model", None, '''\
def build_pair_model(num_symbols, embedding_dim):
    left = keras.Input(shape=(), dtype="int32", name="left_symbol")
    right = keras.Input(shape=(), dtype="int32", name="right_symbol")
    shared = keras.layers.Embedding(
        num_symbols, embedding_dim,
        embeddings_initializer=keras.initializers.RandomNormal(stddev=0.1))
    score = keras.layers.Dot(axes=-1)([shared(left), shared(right)])
    probability = keras.layers.Lambda(keras.ops.sigmoid)(score)
    model = keras.Model([left, right], probability)
    model.compile(optimizer="rmsprop", loss="bce", metrics=["accuracy"])
    return model
''')],
        "pair_subclassed": [("build_pair_model", None, '''\
class PairModel(keras.Model):
    def __init__(self, num_symbols, embedding_dim):
        super().__init__()
        self.table = keras.layers.Embedding(num_symbols, embedding_dim)

    def call(self, inputs):
        left, right = inputs
        scores = keras.ops.sum(self.table(left) * self.table(right), axis=-1)
        return keras.ops.sigmoid(scores)


def build_pair_model(num_symbols, embedding_dim):
    model = PairModel(num_symbols, embedding_dim)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model
''')],
        "neighbours_loop": [("nearest_neighbours", None, '''\
def nearest_neighbours(embeddings, index, k=5):
    query = embeddings[index]
    scored = [(cosine_similarity(query, row), j) for j, row in enumerate(embeddings)
              if j != index]
    scored.sort(key=lambda pair: -pair[0])
    return [j for _, j in scored[:k]]
''')],
        "neighbours_sklearn": [("nearest_neighbours", None, '''\
from sklearn.metrics.pairwise import cosine_similarity as pairwise_cosine


def nearest_neighbours(embeddings, index, k=5):
    E = np.asarray(embeddings)
    scores = pairwise_cosine(E[index:index + 1], E)[0]
    order = [j for j in np.argsort(scores)[::-1] if j != index]
    return np.array(order[:k])
''')],
        "pca_eigh": [("pca_project", None, '''\
def pca_project(X, n_components=2):
    X = np.asarray(X, dtype=float)
    centred = X - X.mean(axis=0)
    values, vectors = np.linalg.eigh(np.cov(centred, rowvar=False))
    order = np.argsort(values)[::-1][:n_components]
    return centred @ vectors[:, order]
''')],
    },
    "syntax_error": "wrong_memory",
    "infinite_loop": "wrong_neighbours",
    "deleted_test": "test_cosine_similarity",
    "duplicated_test": "test_one_hot_encode",
    "compare": "wrong_cosine",
}
