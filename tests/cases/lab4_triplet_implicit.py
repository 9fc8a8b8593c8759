"""The grading cases of lab4_triplet_implicit (see :mod:`tests.cases`).

``right`` holds answers a student could write that satisfy each statement but differ from the
solution (other operations, loops, pandas, other layer designs, default names); each must earn
full marks.  ``wrong`` holds the mistakes the hints name; each is caught by a visible test.
"""

_TRIPLET_FUNCTIONAL_OPS = '''\
def build_triplet_model(num_users, num_items, embedding_dim=64, l2=3e-5, item_bias=False):
    users = keras.layers.Embedding(num_users + 1, embedding_dim,
                                   embeddings_regularizer=keras.regularizers.l2(l2))
    items = keras.layers.Embedding(num_items + 1, embedding_dim,
                                   embeddings_regularizer=keras.regularizers.l2(l2))
    biases = keras.layers.Embedding(num_items + 1, 1, embeddings_initializer="zeros")

    def score(user, item):
        s = keras.ops.sum(users(user) * items(item), axis=-1, keepdims=True)
        if item_bias:
            s = s + biases(item)
        return s

    u = keras.Input(shape=(), dtype="int64", name="user_id")
    p = keras.Input(shape=(), dtype="int64", name="pos_item_id")
    n = keras.Input(shape=(), dtype="int64", name="neg_item_id")
    triplet_model = keras.Model([u, p, n], keras.ops.concatenate([score(u, p), score(u, n)],
                                                                   axis=-1))
    mu = keras.Input(shape=(), dtype="int64", name="user_id")
    mi = keras.Input(shape=(), dtype="int64", name="item_id")
    match_model = keras.Model([mu, mi], score(mu, mi))
    triplet_model.compile(optimizer="adam", loss=triplet_loss)  # compiling is harmless
    return triplet_model, match_model


def triplet_param_count(num_users, num_items, embedding_dim, item_bias=False):
    tables = [(num_users + 1, embedding_dim), (num_items + 1, embedding_dim)]
    if item_bias:
        tables.append((num_items + 1, 1))
    total = 0
    for rows, columns in tables:
        total += rows * columns
    return total
'''

_TRIPLET_FLATTEN_BIAS = '''\
def build_triplet_model(num_users, num_items, embedding_dim=64, l2=3e-5, item_bias=False):
    inputs = {name: keras.Input(shape=(), dtype="int32", name=name)
              for name in ("user_id", "pos_item_id", "neg_item_id", "item_id")}
    user_table = keras.layers.Embedding(num_users + 1, embedding_dim,
                                        embeddings_regularizer=keras.regularizers.L2(l2))
    item_table = keras.layers.Embedding(num_items + 1, embedding_dim,
                                        embeddings_regularizer=keras.regularizers.L2(l2))
    if item_bias:
        bias_table = keras.layers.Embedding(num_items + 1, 1, embeddings_initializer="zeros")
        flatten = keras.layers.Flatten()

    def similarity(item):
        score = keras.layers.Dot(axes=-1)([user_table(inputs["user_id"]), item_table(item)])
        if item_bias:
            score = keras.layers.Add()([score, flatten(bias_table(item))])
        return score

    triplet_scores = keras.layers.Concatenate(axis=1)(
        [similarity(inputs["pos_item_id"]), similarity(inputs["neg_item_id"])])
    triplet_model = keras.Model(
        [inputs["user_id"], inputs["pos_item_id"], inputs["neg_item_id"]], triplet_scores)
    match_model = keras.Model([inputs["user_id"], inputs["item_id"]],
                              similarity(inputs["item_id"]))
    return triplet_model, match_model


def triplet_param_count(num_users, num_items, embedding_dim, item_bias=False):
    return (num_users + num_items + 2) * embedding_dim + (num_items + 1) * int(item_bias)
'''

CASES = {
    "right": {
        # Exercise 1: the hinge written with maximum instead of relu.
        "margin_maximum": [("margin_loss", "keras.ops.relu(margin - pos_scores + neg_scores)",
                            "keras.ops.maximum(0.0, margin - pos_scores + neg_scores)")],
        # Exercise 1: where(shortfall > 0, ...) and a sum divided by the batch size.
        "margin_where_sum": [("margin_loss", None, '''\
def margin_loss(pos_scores, neg_scores, margin=1.0):
    shortfall = margin - pos_scores + neg_scores
    losses = keras.ops.where(shortfall > 0, shortfall, keras.ops.zeros_like(shortfall))
    return keras.ops.sum(losses) / keras.ops.cast(keras.ops.size(losses), losses.dtype)
''')],
        # Exercise 2: the negatives chosen in a Python loop (score_fn still called once),
        # candidates drawn with endpoint=True.
        "sample_loop_choice": [("sample_epoch", None, '''\
def sample_epoch(pairs, num_items, rng, num_candidates=1, score_fn=None):
    pairs = np.asarray(pairs)
    shuffled = pairs[rng.permutation(len(pairs))]
    user_ids, pos_item_ids = shuffled[:, 0], shuffled[:, 1]
    candidates = rng.integers(1, num_items, size=(len(pairs), num_candidates), endpoint=True)
    if num_candidates == 1:
        return user_ids, pos_item_ids, candidates[:, 0]
    scores = np.asarray(score_fn(np.repeat(user_ids, num_candidates), candidates.reshape(-1)))
    scores = scores.reshape(len(pairs), num_candidates)
    negatives = np.array([row[np.argmax(row_scores)]
                          for row, row_scores in zip(candidates, scores)])
    return user_ids, pos_item_ids, negatives
''')],
        # Exercise 2: candidates drawn first with rng.choice, order applied after,
        # take_along_axis, lists returned.
        "sample_choice_first": [("sample_epoch", None, '''\
def sample_epoch(pairs, num_items, rng, num_candidates=1, score_fn=None):
    pairs = np.asarray(pairs)
    n = len(pairs)
    candidates = rng.choice(np.arange(1, num_items + 1), size=(n, num_candidates))
    order = np.arange(n)
    rng.shuffle(order)
    user_ids, pos_item_ids = pairs[order, 0], pairs[order, 1]
    if num_candidates > 1:
        users = np.broadcast_to(user_ids[:, None], candidates.shape)
        scores = np.asarray(score_fn(users.ravel(), candidates.ravel())).reshape(n, -1)
        best = np.argmax(scores, axis=1)[:, None]
        negatives = np.take_along_axis(candidates, best, axis=1)[:, 0]
    else:
        negatives = candidates[:, 0]
    return [user_ids, pos_item_ids, negatives]
''')],
        # Exercise 3: keras.ops instead of Dot/Add, int64 inputs, separate match inputs,
        # default names and regularizer alias, compiled by the student; the parameter count
        # as a loop over the tables.
        "triplet_ops_separate_inputs": [("build_triplet_model", None, _TRIPLET_FUNCTIONAL_OPS)],
        # Exercise 3: Dot/Add layers created per call, a (n, 1) bias flattened, one dict of
        # inputs; the count in one expression.
        "triplet_flatten_bias": [("build_triplet_model", None, _TRIPLET_FLATTEN_BIAS)],
        # Exercise 3: Multiply + sum instead of Dot (the rest as the solution).
        "triplet_multiply_sum": [("build_triplet_model", "    dot = keras.layers.Dot(axes=1)\n",
                                  "    multiply = keras.layers.Multiply()\n\n"
                                  "    def dot(tensors):\n"
                                  "        return keras.ops.sum(multiply(tensors), axis=-1,"
                                  " keepdims=True)\n")],
        # Exercise 4: meshgrid, and the batch size as a keyword of a dict of arrays.
        "score_meshgrid": [("score_all", None, '''\
def score_all(match_model, num_users, num_items):
    users, items = np.meshgrid(np.arange(num_users + 1), np.arange(num_items + 1),
                               indexing="ij")
    pairs = {"user_id": users.reshape(-1), "item_id": items.reshape(-1)}
    scores = match_model.predict(pairs, batch_size=8192, verbose=0)
    return scores.reshape(users.shape)
''')],
        # Exercise 4: np.indices and a reshape of a flattened keras output.
        "score_indices": [("score_all", None, '''\
def score_all(match_model, num_users, num_items):
    grid = np.indices((num_users + 1, num_items + 1)).reshape(2, -1)
    out = match_model.predict([grid[0], grid[1]], batch_size=8192, verbose=0)
    return np.array(out).ravel().reshape(num_users + 1, num_items + 1)
''')],
        # Exercise 5: plain Python loops for both metrics.
        "metrics_loops": [("user_metrics", None, '''\
import math


def user_auc(pos_scores, neg_scores):
    total = 0.0
    for p in pos_scores:
        for n in neg_scores:
            if p > n:
                total += 1
            elif p == n:
                total += 0.5
    return total / (len(pos_scores) * len(neg_scores))


def top_k_metrics(scores, is_positive, k=10):
    ranked = sorted(range(len(scores)), key=lambda j: (-scores[j], j))[:k]
    hits = [bool(is_positive[j]) for j in ranked]
    num_positives = int(sum(bool(x) for x in is_positive))
    dcg = sum(1 / math.log2(rank + 2) for rank, hit in enumerate(hits) if hit)
    idcg = sum(1 / math.log2(rank + 2) for rank in range(min(num_positives, k)))
    return {"precision": sum(hits) / k, "recall": sum(hits) / num_positives, "ndcg": dcg / idcg}
''')],
        # Exercise 5: AUC from ranks (Mann-Whitney U with mid-ranks), pandas for the top k.
        "metrics_ranks_pandas": [("user_metrics", None, '''\
from scipy.stats import rankdata


def user_auc(pos_scores, neg_scores):
    pos, neg = np.asarray(pos_scores), np.asarray(neg_scores)
    ranks = rankdata(np.concatenate([pos, neg]))  # ties get their mean rank
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return u / (len(pos) * len(neg))


def top_k_metrics(scores, is_positive, k=10):
    frame = pd.DataFrame({"score": scores, "positive": is_positive})
    top = frame.sort_values("score", ascending=False, kind="stable").head(k)
    gains = top["positive"].to_numpy() / np.log2(np.arange(2, len(top) + 2))
    ideal = (1 / np.log2(np.arange(2, min(frame["positive"].sum(), k) + 2))).sum()
    return {"precision": top["positive"].sum() / k,
            "recall": top["positive"].sum() / frame["positive"].sum(),
            "ndcg": gains.sum() / ideal}
''')],
        # Exercise 6: pandas counts, sorted by (-count, id).
        "popularity_pandas": [("popularity", None, '''\
def popularity_scores(train_pairs, num_users, num_items):
    counts = pd.Series(np.asarray(train_pairs)[:, 1]).value_counts()
    row = counts.reindex(range(num_items + 1), fill_value=0).to_numpy()
    return np.repeat(row[None, :], num_users + 1, axis=0)


def most_popular(train_pairs, n=100):
    counts = pd.Series(np.asarray(train_pairs)[:, 1]).value_counts()
    ranked = sorted(counts.index, key=lambda item: (-counts[item], item))
    return np.array(ranked[:n])
''')],
        # Exercise 6: np.add.at and lexsort.
        "popularity_add_at": [("popularity", None, '''\
def popularity_scores(train_pairs, num_users, num_items):
    counts = np.zeros(num_items + 1)
    np.add.at(counts, np.asarray(train_pairs)[:, 1], 1)
    return np.ones((num_users + 1, 1)) * counts


def most_popular(train_pairs, n=100):
    items, counts = np.unique(np.asarray(train_pairs)[:, 1], return_counts=True)
    return items[np.lexsort((items, -counts))][:n]
''')],
        # Exercise 7: the MLP as one Sequential, item embedding first in the concatenation,
        # keras.ops.concatenate for the output.
        "deep_sequential": [("build_deep_triplet_model", None, '''\
def build_deep_triplet_model(num_users, num_items, embedding_dim=64, hidden_units=(64,),
                             l2=3e-5):
    users = keras.layers.Embedding(num_users + 1, embedding_dim,
                                   embeddings_regularizer=keras.regularizers.L2(l2))
    items = keras.layers.Embedding(num_items + 1, embedding_dim,
                                   embeddings_regularizer=keras.regularizers.L2(l2))
    mlp = keras.Sequential([keras.layers.Dense(size, activation="relu")
                            for size in hidden_units] + [keras.layers.Dense(1)])

    def similarity(user, item):
        return mlp(keras.ops.concatenate([items(item), users(user)], axis=-1))

    user_id = keras.Input(shape=(), dtype="int32", name="user_id")
    pos_item_id = keras.Input(shape=(), dtype="int32", name="pos_item_id")
    neg_item_id = keras.Input(shape=(), dtype="int32", name="neg_item_id")
    item_id = keras.Input(shape=(), dtype="int32", name="item_id")
    triplet_model = keras.Model(
        [user_id, pos_item_id, neg_item_id],
        keras.ops.concatenate([similarity(user_id, pos_item_id),
                               similarity(user_id, neg_item_id)], axis=-1))
    match_model = keras.Model([user_id, item_id], similarity(user_id, item_id))
    return triplet_model, match_model
''')],
        # Exercise 7: named Dense layers with explicit initialisers, relu as a separate layer.
        "deep_separate_relu": [("build_deep_triplet_model",
                                '    mlp = [keras.layers.Dense(units, activation="relu") '
                                'for units in hidden_units]\n',
                                "    mlp = []\n"
                                "    for k, units in enumerate(hidden_units):\n"
                                "        mlp.append(keras.layers.Dense(units, name=f'hidden_{k}',"
                                " kernel_initializer='he_normal'))\n"
                                "        mlp.append(keras.layers.ReLU())\n")],
    },
    "wrong": {
        "wrong_margin_sign": ("margin_loss", "margin - pos_scores + neg_scores",
                              "margin + pos_scores - neg_scores", ["test_margin_loss"]),
        "wrong_margin_sum": ("margin_loss", "keras.ops.mean(", "keras.ops.sum(",
                             ["test_margin_loss"]),
        "wrong_not_shuffled": ("sample_epoch", "order = rng.permutation(len(pairs))",
                               "order = np.arange(len(pairs))", ["test_sample_epoch"]),
        "wrong_negative_range": ("sample_epoch", "rng.integers(1, num_items + 1,",
                                 "rng.integers(1, num_items,", ["test_sample_epoch"]),
        "wrong_hardest_is_easiest": ("sample_epoch", ".argmax(axis=1)", ".argmin(axis=1)",
                                     ["test_sample_epoch"]),
        "wrong_candidates_other_user": ("sample_epoch", "np.repeat(user_ids, num_candidates)",
                                        "np.tile(user_ids, num_candidates)",
                                        ["test_sample_epoch"]),
        "wrong_score_order": ("build_triplet_model",
                              "keras.layers.Concatenate()([pos_score, neg_score])",
                              "keras.layers.Concatenate()([neg_score, pos_score])",
                              ["test_build_triplet_model"]),
        "wrong_match_unshared": ("build_triplet_model", "similarity(u, item_id)",
                                 "keras.layers.Dot(axes=1)([u, keras.layers.Embedding("
                                 "num_items + 1, embedding_dim)(item_id)])",
                                 ["test_build_triplet_model"]),
        "wrong_bias_random_start": ("build_triplet_model",
                                    'embeddings_initializer="zeros",\n',
                                    'embeddings_initializer="uniform",\n',
                                    ["test_build_triplet_model"]),
        "wrong_param_count": ("build_triplet_model",
                              "(num_users + 1 + num_items + 1) * embedding_dim",
                              "(num_users + num_items) * embedding_dim",
                              ["test_triplet_param_count"]),
        "wrong_param_count_two_item_tables": ("build_triplet_model",
                                              "(num_users + 1 + num_items + 1) * embedding_dim",
                                              "(num_users + 1 + 2 * (num_items + 1)) "
                                              "* embedding_dim",
                                              ["test_triplet_param_count"]),
        "wrong_score_layout": ("score_all", "reshape(num_users + 1, num_items + 1)",
                               "reshape(num_items + 1, num_users + 1).T", ["test_score_all"]),
        "wrong_score_ids_from_1": ("score_all", "np.arange(num_users + 1), num_items + 1)",
                                   "np.arange(1, num_users + 1), num_items + 1)",
                                   ["test_score_all"]),
        "wrong_auc_ties": ("user_metrics", "(pos > neg) + 0.5 * (pos == neg)", "(pos > neg)",
                           ["test_user_auc"]),
        "wrong_rank_increasing": ("user_metrics", "np.argsort(-scores, kind=\"stable\")",
                                  "np.argsort(scores, kind=\"stable\")", ["test_top_k_metrics"]),
        "wrong_ndcg_ideal": ("user_metrics", "discounts[: min(int(is_positive.sum()), k)]",
                             "discounts[:k]", ["test_top_k_metrics"]),
        "wrong_recall_over_k": ("user_metrics", "float(hits.sum() / is_positive.sum())",
                                "float(hits.sum() / k)", ["test_top_k_metrics"]),
        "wrong_popularity_length": ("popularity", ", minlength=num_items + 1)", ")",
                                    ["test_popularity_scores"]),
        "wrong_popular_ties": ("popularity", 'np.argsort(-counts, kind="stable")[:n]',
                               "np.argsort(counts)[::-1][:n]", ["test_most_popular"]),
        "wrong_deep_unshared": ("build_deep_triplet_model",
                                "x = concatenate([user_embedding(u), item_embedding(i)])",
                                "x = concatenate([user_embedding(u), keras.layers.Embedding("
                                "num_items + 1, embedding_dim)(i)])",
                                ["test_build_deep_triplet_model"]),
        "wrong_deep_dense_per_call": ("build_deep_triplet_model", "        for layer in mlp:\n"
                                      "            x = layer(x)\n",
                                      "        for layer in mlp:\n"
                                      "            x = keras.layers.Dense(layer.units, "
                                      "activation=layer.activation)(x)\n",
                                      ["test_build_deep_triplet_model"]),
    },
    "syntax_error": "wrong_score_layout",
    "infinite_loop": "wrong_margin_sign",
    "deleted_test": "test_margin_loss",
    "duplicated_test": "test_score_all",
    "compare": "wrong_auc_ties",
}
