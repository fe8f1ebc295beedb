"""Golden data for the frame tests (tests/unit/test_frame*.c), from pandas.

Writes:
  tests/golden/csv/<name>.csv      the tricky-files corpus (bytes as listed here)
  tests/golden/frame_<name>.txt    pandas' reading of each: names, dtypes, values
                                   (NA_FILES: read with na_values)
  tests/golden/frame_repr_*.txt    pandas' repr of some frames
  tests/golden/frame_house_small_*.npy, frame_describe_*.npy
  data/house_small.csv             d2l's exercise table
Run with the system python: /usr/bin/python3 tests/reference/frame.py
"""
import io
import os

import numpy as np
import pandas as pd

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
GOLDEN = os.path.join(ROOT, "tests", "golden")
CORPUS = os.path.join(GOLDEN, "csv")

FILES = {
    "quoting": b'a,b,c\n1,"x,y",3\n2,"he said ""hi""",4\n3,"multi\nline",5\n',
    "crlf": b"a,b\r\n1,2\r\n3,4\r\n",
    "cr_only": b"a,b\r1,2\r3,4\r",
    "bom": b"\xef\xbb\xbfname,val\nx,1\ny,2\n",
    "no_final_newline": b"a,b\n1,2\n3,4",
    "blank_lines": b"\na,b\n\n1,2\n   \n3,4\n\n",
    "empty_fields": b"a,b,c\n1,,x\n,2,\n,,\n",
    "numbers": b"a,b,c,d,e\n1e3,-0,inf,.5,-0.0\n2,3,-inf,1.,1\n-1.5E-3,+7, 8 ,0,2\n",
    "precision": b"x\n0.1\n1.7976931348623157e308\n2.2250738585072014e-308\n"
                 b"123456789012345678\n0.30000000000000004\n3.14159265358979323846\n",
    "na_values": b'x\n1\nNA\nN/A\n#N/A\nnull\nNULL\nNaN\n-nan\nnan\nn/a\n<NA>\nNone\n#NA\n'
                 b'-1.#IND\n1.#QNAN\n-NaN\n#N/A N/A\n-1.#QNAN\n1.#IND\n"NA"\n',
    "all_na": b"a,b\n1,\n2,NA\n",
    "bools": b"a,b,c,d\nTrue,true,True,True\nFalse,FALSE,,1\nTRUE,false,False,x\n",
    "dup_names": b"a,a,,a.1,b,b\n1,2,3,4,5,6\n",
    "leading_spaces": b"a,b,c\n 1, x ,2\n3 ,y, NA\n",
    "mixed": b"a,b\n1,x\n2,3\nfoo,4.5\n",
    "short_rows": b"a,b,c\n1,2\n3,4,5\n6\n",
    "unicode": "name,v\nna\u00efve,1\n\u65e5\u672c,2\n".encode(),
    "quoted_numbers": b'a,b\n"1","x"\n"2",""\n',
    "quote_after": b'a,b\n1,"ab"c\n2,a"b\n',
    "overflow": b"a,b\n1e400,1\n2,1e-400\n",
    "tabs": b"a,b\nx\ty,1\n\t,2\n",
    "house_tiny": b"NumRooms,Alley,Price\nNA,Pave,127500\n2,NA,106000\n4,NA,178100\nNA,NA,140000\n",
    # names the header gives are kept; the placeholders of empty names and the
    # later duplicates move on past them ("Unnamed: 0.1", "a.2")
    "unnamed_taken": b",Unnamed: 0,x,,Unnamed: 3,Unnamed: 3.1,\n1,2,3,4,5,6,7\n",
    "dup_suffix_taken": b"a,a,a.1,b.1,b,b,,Unnamed: 6.1,Unnamed: 6\n1,2,3,4,5,6,7,8,9\n",
}

# Files read with na_values (and keep_default_na): name -> (bytes, na_values, keep_default_na).
# test_frame_csv.c's NA_OPTIONS lists the same options.
NA_FILES = {
    # "-999" is also "-999.0"; in a float column any number -999 ("-9.99e2", " -999 ");
    # a column of integers keeps "-0999" and "+999", missing cells or not
    "na_numbers": (b"ints,int_spellings,floats,float_spellings,ints_with_na,text,bools\n"
                   b"1,1,1.5,-999.00,-0999,a,True\n"
                   b"-999,-0999,-999.0,-9.99e2,,-999.0,-999\n"
                   b"3,+999,2.5, -999 ,3,-999.00,False\n", ["-999"], True),
    # "0.10" is also repr(0.1) "0.1"; "007" is "7"; "1_000" is 1000; "-0" is 0; inf is not -inf
    "na_spellings": (b"text,ints,floats,infs\n0.1,7,1000.0,inf\n0.10,8,1e3,-inf\n"
                     b"x,07,2.5,Infinity\nNA,0,-0.0,1.5\n",
                     ["0.10", "007", "1_000", "inf", "-0"], False),
}


def escape(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def cell(v, dtype):
    if dtype == "bool":
        return str(bool(v))
    if dtype == "int64":
        return str(int(v))
    if dtype == "float64":
        return "<NA>" if np.isnan(v) else "%.17g" % v
    if isinstance(v, float) and np.isnan(v):
        return "<NA>"
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    return escape(str(v))


def dump(df):
    """The text the C test builds from nd's frame (dump_frame in test_frame_csv.c)."""
    lines = ["%d %d" % (df.shape[1], df.shape[0])]
    for j, name in enumerate(df.columns):
        dtype = str(df.dtypes.iloc[j])
        lines.append("%s\t%s" % (escape(str(name)), dtype))
        lines.extend(cell(v, dtype) for v in df.iloc[:, j].tolist())
    return "\n".join(lines) + "\n"


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def corpus():
    for name, data in FILES.items():
        with open(os.path.join(CORPUS, name + ".csv"), "wb") as f:
            f.write(data)
        # pandas 2's default NA list has "None"; Debian's pandas 1.5 lacks it. nd's numbers
        # are correctly rounded: pandas' default parser is not always, its round_trip one is.
        df = pd.read_csv(io.BytesIO(data), na_values=["None"], float_precision="round_trip")
        write(os.path.join(GOLDEN, "frame_%s.txt" % name), dump(df))


def na_files():
    for name, (data, na_values, keep_default_na) in NA_FILES.items():
        with open(os.path.join(CORPUS, name + ".csv"), "wb") as f:
            f.write(data)
        extra = ["None"] if keep_default_na else []  # as in corpus()
        df = pd.read_csv(io.BytesIO(data), na_values=na_values + extra,
                         keep_default_na=keep_default_na, float_precision="round_trip")
        # a number in na_values reads as its text does (for integers; pandas also adds
        # int(x) of a number, so -999.5 would make "-999" missing: nd takes texts only)
        texts = [v for v in na_values if v.lstrip("-").isdigit() and str(int(v)) == v]
        for number in (int, float) if texts else ():
            again = pd.read_csv(io.BytesIO(data), na_values=[number(v) for v in texts] + extra,
                                keep_default_na=keep_default_na, float_precision="round_trip")
            assert dump(again) == dump(df), name
        write(os.path.join(GOLDEN, "frame_%s.txt" % name), dump(df))


def house_small():
    """d2l's exercise: a larger table with missing values; drop the column with the most."""
    rng = np.random.default_rng(0)
    n = 50
    df = pd.DataFrame({
        "Area": np.round(rng.uniform(40, 250, n), 1),
        "NumRooms": rng.integers(1, 7, n).astype(float),
        "Alley": rng.choice(["Pave", "Grvl"], n).astype(object),
        "Garage": rng.choice(["Attchd", "Detchd", "None_"], n).astype(object),
        "YearBuilt": rng.integers(1950, 2020, n).astype(float),
        "Price": rng.integers(80000, 500000, n),
    })
    for col, frac in (("Area", 0.1), ("NumRooms", 0.2), ("Alley", 0.6), ("Garage", 0.15),
                      ("YearBuilt", 0.3)):
        df.loc[rng.random(n) < frac, col] = np.nan
    df.to_csv(os.path.join(ROOT, "data", "house_small.csv"), index=False)
    df = pd.read_csv(os.path.join(ROOT, "data", "house_small.csv"))
    worst = df.isna().sum().idxmax()
    assert worst == "Alley", worst
    inputs = df.drop(columns=[worst]).iloc[:, :-1]
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    inputs = pd.get_dummies(inputs, dummy_na=True)
    np.save(os.path.join(GOLDEN, "frame_house_small_X.npy"), inputs.to_numpy(dtype=np.float64))
    np.save(os.path.join(GOLDEN, "frame_house_small_y.npy"),
            df.iloc[:, -1].to_numpy(dtype=np.float64))
    write(os.path.join(GOLDEN, "frame_house_small_names.txt"), "\n".join(inputs.columns) + "\n")
    d = df.describe()
    np.save(os.path.join(GOLDEN, "frame_describe_house_small.npy"), d.to_numpy())
    write(os.path.join(GOLDEN, "frame_repr_describe.txt"), repr(d) + "\n")
    filled = df.fillna(df.median(numeric_only=True))
    np.save(os.path.join(GOLDEN, "frame_fillna_median.npy"),
            filled.select_dtypes("number").to_numpy(dtype=np.float64))
    np.save(os.path.join(GOLDEN, "frame_dropna.npy"),
            df.dropna().select_dtypes("number").to_numpy(dtype=np.float64))
    write(os.path.join(GOLDEN, "frame_repr_house_small.txt"), repr(df) + "\n")


def reprs():
    tiny = pd.read_csv(io.BytesIO(FILES["house_tiny"]))
    write(os.path.join(GOLDEN, "frame_repr_house_tiny.txt"), repr(tiny) + "\n")
    inputs = tiny.iloc[:, 0:2]
    inputs = inputs.fillna(inputs.mean(numeric_only=True))
    dummies = pd.get_dummies(inputs, dummy_na=True, dtype=bool)
    write(os.path.join(GOLDEN, "frame_repr_dummies.txt"), repr(dummies) + "\n")
    rows = pd.DataFrame({"a": np.arange(100) * 1.5, "b": ["s%d" % i for i in range(100)]})
    rows.to_csv(os.path.join(CORPUS, "long.csv"), index=False)
    write(os.path.join(GOLDEN, "frame_repr_long.txt"), repr(pd.read_csv(
        os.path.join(CORPUS, "long.csv"))) + "\n")
    rng = np.random.default_rng(1)
    wide = pd.DataFrame({"column_%d" % i: rng.standard_normal(4) * 10 ** i for i in range(12)})
    wide.to_csv(os.path.join(CORPUS, "wide.csv"), index=False)
    write(os.path.join(GOLDEN, "frame_repr_wide.txt"), repr(pd.read_csv(
        os.path.join(CORPUS, "wide.csv"))) + "\n")
    for name in ("quoting", "tabs", "bools", "numbers"):
        write(os.path.join(GOLDEN, "frame_repr_%s.txt" % name),
              repr(pd.read_csv(io.BytesIO(FILES[name]))) + "\n")
    mixed = pd.read_csv(io.BytesIO(b"x,s,b,i\n1.5,hello,True,1\n,,False,-20\n0.001,NA,True,3\n"))
    write(os.path.join(CORPUS, "repr_mixed.csv"), "x,s,b,i\n1.5,hello,True,1\n,,False,-20\n0.001,NA,True,3\n")
    write(os.path.join(GOLDEN, "frame_repr_mixed.txt"), repr(mixed) + "\n")


if __name__ == "__main__":
    os.makedirs(CORPUS, exist_ok=True)
    corpus()
    na_files()
    house_small()
    reprs()
